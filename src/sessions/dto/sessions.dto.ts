import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min, MinLength } from 'class-validator';
import { PageQueryDto } from '../../common/page-query.dto.js';
import { EVENT_TYPES } from '../../contracts/events.js';

export class CreateSessionDto {
  @ApiPropertyOptional({ maxLength: 200, example: 'Trip planning' })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  title?: string;
}

export class ListSessionsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: ['active', 'closed'] })
  @IsOptional()
  @IsIn(['active', 'closed'])
  status?: 'active' | 'closed';
}

export class EventsQueryDto {
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

export class SessionDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ type: String, nullable: true }) title!: string | null;
  @ApiProperty({ enum: ['active', 'closed'] }) status!: 'active' | 'closed';
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) lastActivityAt!: string;
  @ApiProperty({ description: 'seq of the newest event, 0 for an empty log' }) lastSeq!: number;
}

export class RunDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) intentId!: string;
  @ApiProperty({
    enum: ['running', 'awaiting_input', 'completed', 'cancelled', 'failed', 'interrupted'],
  })
  status!: string;
  @ApiProperty() attempt!: number;
  @ApiProperty({ format: 'date-time' }) startedAt!: string;
}

export class InteractionDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: ['confirm', 'form', 'retry'] }) kind!: string;
  @ApiProperty({ format: 'uuid' }) runId!: string;
  @ApiProperty({ format: 'uuid' }) intentId!: string;
  @ApiProperty({ format: 'date-time' }) expiresAt!: string;
  @ApiProperty({
    description: 'data of the event that asked (request_confirmation, component or task_failed)',
  })
  data!: Record<string, unknown>;
}

export class SessionStateDto {
  @ApiProperty({ type: RunDto, nullable: true }) run!: RunDto | null;
  @ApiProperty({ type: InteractionDto, nullable: true }) pendingInteraction!: InteractionDto | null;
}

export class SessionWithStateDto extends SessionDto {
  @ApiProperty({ type: SessionStateDto }) state!: SessionStateDto;
}

export class SessionPageDto {
  @ApiProperty({ type: [SessionDto] }) items!: SessionDto[];
  @ApiProperty({ type: String, nullable: true }) nextCursor!: string | null;
}

export class EventDto {
  @ApiProperty({ format: 'uuid' }) sessionId!: string;
  @ApiProperty() seq!: number;
  @ApiProperty({ enum: EVENT_TYPES }) type!: string;
  @ApiPropertyOptional({ format: 'uuid' }) intentId?: string;
  @ApiPropertyOptional({ format: 'uuid' }) runId?: string;
  @ApiPropertyOptional() connectionId?: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ description: 'Shape depends on type; see /asyncapi.json' }) data!: Record<
    string,
    unknown
  >;
}

export class EventPageDto {
  @ApiProperty({ type: [EventDto] }) items!: EventDto[];
  @ApiProperty() hasMore!: boolean;
}
