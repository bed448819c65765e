import { Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentUser, Roles } from '../auth/auth.decorators.js';
import { ApiErrors } from '../common/api-errors.decorator.js';
import type { Page, RunIdResponse } from '../contracts/rest.js';
import type {
  AdminRunView,
  AdminSessionView,
  Stats,
  UsageReport,
} from '../contracts/rest-admin.js';
import type { AuthUser } from '../users/user.types.js';
import { AdminOperationsService } from './admin-operations.service.js';
import { AdminRunsService } from './admin-runs.service.js';
import { AdminStatsService } from './admin-stats.service.js';
import {
  AdminRunPageDto,
  AdminRunsQueryDto,
  AdminSessionPageDto,
  AdminSessionsQueryDto,
  StatsDto,
  UsageQueryDto,
  UsageReportDto,
} from './dto/admin.dto.js';
import { RunIdDto } from '../agent/dto/agent.dto.js';
import { CloseSessionUseCase } from '../sessions/usecases/close-session.usecase.js';

@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@ApiErrors('UNAUTHORIZED', 'FORBIDDEN')
@Controller('admin')
export class AdminOperationsController {
  constructor(
    @Inject(AdminOperationsService) private readonly ops: AdminOperationsService,
    @Inject(AdminRunsService) private readonly adminRuns: AdminRunsService,
    @Inject(AdminStatsService) private readonly adminStats: AdminStatsService,
    @Inject(CloseSessionUseCase) private readonly closeSession: CloseSessionUseCase,
  ) {}

  @ApiOperation({ summary: "List every user's sessions" })
  @Get('sessions')
  @ApiOkResponse({ type: AdminSessionPageDto, description: 'Newest activity first' })
  @ApiErrors('VALIDATION_FAILED')
  sessions(@Query() q: AdminSessionsQueryDto): Promise<Page<AdminSessionView>> {
    return this.ops.listSessions(q);
  }

  @ApiOperation({ summary: 'Close a session (its run is cancelled)' })
  @Post('sessions/:id/close')
  @HttpCode(204)
  @ApiNoContentResponse({
    description: 'Closed (its run cancelled with reason admin, session_closed {by: admin})',
  })
  @ApiErrors('NOT_FOUND')
  async close(@CurrentUser() actor: AuthUser, @Param('id') id: string): Promise<void> {
    await this.closeSession.execute({ sessionId: id, by: 'admin', actorId: actor.id });
  }

  @ApiOperation({ summary: 'List runs, filtered by status' })
  @Get('runs')
  @ApiOkResponse({ type: AdminRunPageDto, description: 'Newest first' })
  @ApiErrors('VALIDATION_FAILED')
  runs(@Query() q: AdminRunsQueryDto): Promise<Page<AdminRunView>> {
    return this.adminRuns.listRuns(q);
  }

  @ApiOperation({ summary: 'Cancel a run, wherever it runs' })
  @Post('runs/:id/cancel')
  @HttpCode(202)
  @ApiAcceptedResponse({
    type: RunIdDto,
    description: 'Cancelled: the user sees task_cancelled {reason: admin}',
  })
  @ApiErrors('NOT_FOUND', 'CONFLICT')
  cancel(@CurrentUser() actor: AuthUser, @Param('id') id: string): Promise<RunIdResponse> {
    return this.adminRuns.cancelRun(actor.id, id);
  }

  @ApiOperation({ summary: 'Token usage per user and day' })
  @Get('usage')
  @ApiOkResponse({ type: UsageReportDto, description: 'Per user and UTC day, newest day first' })
  @ApiErrors('VALIDATION_FAILED')
  usage(@Query() q: UsageQueryDto): Promise<UsageReport> {
    return this.ops.usageReport(q);
  }

  @ApiOperation({ summary: "Every node's connection and session counts" })
  @Get('stats')
  @ApiOkResponse({ type: StatsDto })
  stats(): Promise<Stats> {
    return this.adminStats.stats();
  }
}
