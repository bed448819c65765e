import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min, MinLength } from 'class-validator';
import { PageQueryDto } from '../../common/page-query.dto.js';
import {
  EVENT_TYPES,
  INTERACTION_KINDS,
  type EventDataMap,
  type EventType,
  type InteractionKind,
  type SessionEventOf,
} from '../../contracts/events.js';
import type {
  CreateSessionRequest,
  RenameSessionRequest,
  EventPage,
  EventsQuery,
  ListSessionsQuery,
  Page,
} from '../../contracts/rest.js';
import {
  RUN_STATUSES,
  SESSION_STATUSES,
  type InteractionView,
  type RunStatus,
  type RunView,
  type SessionStateView,
  type QueuedIntentView,
  type SessionStatus,
  type SessionView,
  type SessionWithState,
} from '../../contracts/session.js';
import type { Exactly } from '../../common/exactly.js';

export class CreateSessionDto implements Exactly<CreateSessionDto, CreateSessionRequest> {
  @ApiPropertyOptional({ maxLength: 200, example: 'Trip planning' })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  title?: string;
}

export class RenameSessionDto implements Exactly<RenameSessionDto, RenameSessionRequest> {
  @ApiProperty({ minLength: 1, maxLength: 200, example: 'Trip planning, June' })
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  title!: string;
}

export class ListSessionsQueryDto
  extends PageQueryDto
  implements Exactly<ListSessionsQueryDto, ListSessionsQuery>
{
  @ApiPropertyOptional({ enum: SESSION_STATUSES })
  @IsOptional()
  @IsIn(SESSION_STATUSES)
  status?: SessionStatus;
}

export class EventsQueryDto implements Exactly<EventsQueryDto, EventsQuery> {
  @ApiPropertyOptional({
    minimum: 0,
    maximum: Number.MAX_SAFE_INTEGER,
    default: 0,
    description: 'Return events with seq greater than this',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  afterSeq?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: 1000, default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;
}

export class SessionDto implements Exactly<SessionDto, SessionView> {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ type: String, nullable: true }) title!: string | null;
  @ApiProperty({ enum: SESSION_STATUSES }) status!: SessionStatus;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) lastActivityAt!: string;
  @ApiProperty({ description: 'seq of the newest event, 0 for an empty log' }) lastSeq!: number;
}

export class RunDto implements Exactly<RunDto, RunView> {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) intentId!: string;
  @ApiProperty({ enum: RUN_STATUSES }) status!: RunStatus;
  @ApiProperty() attempt!: number;
  @ApiProperty({ format: 'date-time' }) startedAt!: string;
}

export class InteractionDto implements Exactly<InteractionDto, InteractionView> {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: INTERACTION_KINDS }) kind!: InteractionKind;
  @ApiProperty({ format: 'uuid' }) runId!: string;
  @ApiProperty({ format: 'uuid' }) intentId!: string;
  @ApiProperty({ format: 'date-time' }) expiresAt!: string;
  @ApiProperty({
    description: 'data of the event that asked (request_confirmation, component or task_failed)',
  })
  data!: Record<string, unknown>;
}

export class QueuedIntentDto implements Exactly<QueuedIntentDto, QueuedIntentView> {
  @ApiProperty({ format: 'uuid' }) intentId!: string;
  @ApiProperty() content!: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
}

export class SessionStateDto implements Exactly<SessionStateDto, SessionStateView> {
  @ApiProperty({ type: RunDto, nullable: true }) run!: RunDto | null;
  @ApiProperty({ type: InteractionDto, nullable: true }) pendingInteraction!: InteractionDto | null;
  @ApiProperty({
    type: String,
    format: 'uuid',
    nullable: true,
    description: 'The intent a new message follows by default',
  })
  headIntentId!: string | null;
  @ApiProperty({ type: [QueuedIntentDto], description: 'Queued intents, next first' })
  queue!: QueuedIntentDto[];
}

export class SessionWithStateDto
  extends SessionDto
  implements Exactly<SessionWithStateDto, SessionWithState>
{
  @ApiProperty({ type: SessionStateDto }) state!: SessionStateDto;
}

export class SessionPageDto implements Exactly<SessionPageDto, Page<SessionView>> {
  @ApiProperty({ type: [SessionDto] }) items!: SessionDto[];
  @ApiProperty({ type: String, nullable: true }) nextCursor!: string | null;
}

export class EventDto implements Exactly<EventDto, SessionEventOf<EventType>> {
  @ApiProperty({ format: 'uuid' }) sessionId!: string;
  @ApiProperty() seq!: number;
  @ApiProperty({ enum: EVENT_TYPES }) type!: EventType;
  @ApiPropertyOptional({ format: 'uuid' }) intentId?: string;
  @ApiPropertyOptional({ format: 'uuid' }) runId?: string;
  @ApiPropertyOptional() connectionId?: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ description: 'Shape depends on type; see /asyncapi.json' })
  data!: EventDataMap[EventType];
}

/**
 * `items` are EventDto, the event with `type` and `data` widened to any type: a class cannot
 * implement the discriminated `SessionEvent` union, and EventDto is checked against its widening.
 */
export class EventPageDto implements Omit<EventPage, 'items'> {
  @ApiProperty({ type: [EventDto] }) items!: EventDto[];
  @ApiProperty() hasMore!: boolean;
}
