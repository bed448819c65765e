import { Body, Controller, Delete, HttpCode, Inject, Param, Post, Put } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentUser } from '../auth/auth.decorators.js';
import { ApiErrors } from '../common/api-errors.decorator.js';
import type { HeadResponse, RunIdResponse } from '../contracts/rest.js';
import { SessionBranches } from '../runs/session-branches.js';
import { SessionQueue } from '../runs/session-queue.js';
import type { AuthUser } from '../users/user.types.js';
import { CheckoutDto, HeadDto, RunIdDto } from './dto/agent.dto.js';
import { RegenerateIntentUseCase } from './usecases/regenerate-intent.usecase.js';

/** The REST twins of the steering commands: intent:regenerate, intent:cancel, session:checkout. */
@ApiTags('agent')
@ApiBearerAuth()
@ApiErrors('UNAUTHORIZED')
@Controller('sessions/:id')
export class SteeringController {
  constructor(
    @Inject(RegenerateIntentUseCase) private readonly regenerate: RegenerateIntentUseCase,
    @Inject(SessionQueue) private readonly queue: SessionQueue,
    @Inject(SessionBranches) private readonly branches: SessionBranches,
  ) {}

  @ApiOperation({ summary: 'Regenerate the head intent’s answer (twin of intent:regenerate)' })
  @Post('intents/:intentId/regenerate')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: RunIdDto, description: 'The new run of the head intent' })
  @ApiErrors('NOT_FOUND', 'CONFLICT', 'SESSION_BUSY', 'SESSION_CLOSED', 'QUOTA_EXCEEDED')
  async regenerateIntent(
    @CurrentUser() user: AuthUser,
    @Param('id') id: string,
    @Param('intentId') intentId: string,
  ): Promise<RunIdResponse> {
    return { runId: await this.regenerate.execute({ userId: user.id, sessionId: id, intentId }) };
  }

  @ApiOperation({ summary: 'Remove a queued message (twin of intent:cancel)' })
  @Delete('queue/:intentId')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Removed; intent_dequeued {reason: "user"} is in the log' })
  @ApiErrors('NOT_FOUND', 'CONFLICT', 'SESSION_CLOSED')
  async dequeue(
    @CurrentUser() user: AuthUser,
    @Param('id') id: string,
    @Param('intentId') intentId: string,
  ): Promise<void> {
    await this.queue.dequeue(id, intentId, user.id);
  }

  @ApiOperation({ summary: 'Move the head to an intent (twin of session:checkout)' })
  @Put('head')
  @HttpCode(200)
  @ApiOkResponse({ type: HeadDto, description: 'The new head; head_changed is in the log' })
  @ApiErrors('NOT_FOUND', 'VALIDATION_FAILED', 'CONFLICT', 'SESSION_CLOSED')
  async checkout(
    @CurrentUser() user: AuthUser,
    @Param('id') id: string,
    @Body() dto: CheckoutDto,
  ): Promise<HeadResponse> {
    return { headIntentId: await this.branches.checkout(id, dto.intentId, user.id) };
  }
}
