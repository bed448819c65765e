import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsUUID, Matches } from 'class-validator';
import { PageQueryDto } from '../../common/page-query.dto.js';
import { SessionDto } from '../../sessions/dto/sessions.dto.js';

import type { Page } from '../../contracts/rest.js';
import type {
  AdminRunView,
  AdminRunsQuery,
  AdminSessionView,
  AdminSessionsQuery,
  NodeStats,
  Stats,
  UsageQuery,
  UsageReport,
  UsageRow,
} from '../../contracts/rest-admin.js';
import {
  RUN_STATUSES,
  SESSION_STATUSES,
  type RunStatus,
  type SessionStatus,
} from '../../contracts/session.js';
import type { Exactly } from '../../common/exactly.js';

const DAY = /^\d{4}-\d{2}-\d{2}$/;

export class AdminSessionsQueryDto
  extends PageQueryDto
  implements Exactly<AdminSessionsQueryDto, AdminSessionsQuery>
{
  @ApiPropertyOptional({ format: 'uuid' }) @IsOptional() @IsUUID() userId?: string;
  @ApiPropertyOptional({ enum: SESSION_STATUSES })
  @IsOptional()
  @IsIn(SESSION_STATUSES)
  status?: SessionStatus;
}

export class AdminRunsQueryDto
  extends PageQueryDto
  implements Exactly<AdminRunsQueryDto, AdminRunsQuery>
{
  @ApiPropertyOptional({ enum: RUN_STATUSES })
  @IsOptional()
  @IsIn(RUN_STATUSES)
  status?: RunStatus;
}

export class UsageQueryDto implements Exactly<UsageQueryDto, UsageQuery> {
  @ApiPropertyOptional({ format: 'uuid' }) @IsOptional() @IsUUID() userId?: string;
  @ApiPropertyOptional({ example: '2026-01-01', description: 'First day (UTC), inclusive' })
  @IsOptional()
  @Matches(DAY, { message: 'from must be a day: YYYY-MM-DD' })
  from?: string;
  @ApiPropertyOptional({ example: '2026-01-31', description: 'Last day (UTC), inclusive' })
  @IsOptional()
  @Matches(DAY, { message: 'to must be a day: YYYY-MM-DD' })
  to?: string;
}

export class AdminSessionDto
  extends SessionDto
  implements Exactly<AdminSessionDto, AdminSessionView>
{
  @ApiProperty({ format: 'uuid' }) userId!: string;
}

export class AdminSessionPageDto implements Exactly<AdminSessionPageDto, Page<AdminSessionView>> {
  @ApiProperty({ type: [AdminSessionDto] }) items!: AdminSessionDto[];
  @ApiProperty({ type: String, nullable: true }) nextCursor!: string | null;
}

export class AdminRunDto implements Exactly<AdminRunDto, AdminRunView> {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) intentId!: string;
  @ApiProperty({ format: 'uuid' }) sessionId!: string;
  @ApiProperty({ format: 'uuid' }) userId!: string;
  @ApiProperty() attempt!: number;
  @ApiProperty({ enum: RUN_STATUSES }) status!: RunStatus;
  @ApiProperty() nodeId!: string;
  @ApiProperty({ format: 'date-time' }) startedAt!: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) endedAt!: string | null;
}

export class AdminRunPageDto implements Exactly<AdminRunPageDto, Page<AdminRunView>> {
  @ApiProperty({ type: [AdminRunDto] }) items!: AdminRunDto[];
  @ApiProperty({ type: String, nullable: true }) nextCursor!: string | null;
}

export class UsageRowDto implements Exactly<UsageRowDto, UsageRow> {
  @ApiProperty({ format: 'uuid' }) userId!: string;
  @ApiProperty({ example: '2026-11-21' }) day!: string;
  @ApiProperty() messages!: number;
  @ApiProperty() runs!: number;
  @ApiProperty() promptTokens!: number;
  @ApiProperty() completionTokens!: number;
}

export class UsageReportDto implements Exactly<UsageReportDto, UsageReport> {
  @ApiProperty({ type: [UsageRowDto] }) items!: UsageRowDto[];
}

export class NodeStatsDto implements Exactly<NodeStatsDto, NodeStats> {
  @ApiProperty() nodeId!: string;
  @ApiProperty({
    description: 'Open sockets (known for this node only)',
    nullable: true,
    type: Number,
  })
  connections!: number | null;
  @ApiProperty({
    description: 'Sessions watched by a socket or stream on this node',
    nullable: true,
    type: Number,
  })
  watchedSessions!: number | null;
  @ApiProperty() activeRuns!: number;
}

export class StatsDto implements Exactly<StatsDto, Stats> {
  @ApiProperty() nodeId!: string;
  @ApiProperty({ type: [NodeStatsDto] }) nodes!: NodeStatsDto[];
  @ApiProperty({
    example: { users: 3, sessions: 10, activeSessions: 8, activeRuns: 1, connections: 2 },
  })
  totals!: Record<string, number>;
}
