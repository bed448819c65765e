import { randomUUID } from 'node:crypto';
import { Body, Controller, HttpCode, Inject, Param, Post } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentUser } from '../auth/auth.decorators.js';
import { ApiErrors } from '../common/api-errors.decorator.js';
import type { OkResponse, RunIdResponse } from '../contracts/rest.js';
import type { AuthUser } from '../users/user.types.js';
import { OkDto, RespondDto, RunIdDto, SendMessageAckDto, SendMessageDto } from './dto/agent.dto.js';
import { AnswerInteractionUseCase } from './usecases/answer-interaction.usecase.js';
import { CancelRunUseCase } from './usecases/cancel-run.usecase.js';
import { ResumeIntentUseCase } from './usecases/resume-intent.usecase.js';
import { type SendMessageAck, SendMessageUseCase } from './usecases/send-message.usecase.js';

/** The REST twins of the socket commands. */
@ApiTags('agent')
@ApiBearerAuth()
@ApiErrors('UNAUTHORIZED')
@Controller()
export class AgentController {
  constructor(
    @Inject(SendMessageUseCase) private readonly send: SendMessageUseCase,
    @Inject(AnswerInteractionUseCase) private readonly answer: AnswerInteractionUseCase,
    @Inject(CancelRunUseCase) private readonly cancel: CancelRunUseCase,
    @Inject(ResumeIntentUseCase) private readonly resume: ResumeIntentUseCase,
  ) {}

  @ApiOperation({ summary: 'Send a message (the REST twin of message:send)' })
  @Post('sessions/:id/messages')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: SendMessageAckDto, description: 'The REST twin of message:send' })
  @ApiErrors(
    'NOT_FOUND',
    'VALIDATION_FAILED',
    'CONFLICT',
    'SESSION_BUSY',
    'QUEUE_FULL',
    'SESSION_CLOSED',
    'RATE_LIMITED',
    'QUOTA_EXCEEDED',
  )
  sendMessage(
    @CurrentUser() user: AuthUser,
    @Param('id') id: string,
    @Body() dto: SendMessageDto,
  ): Promise<SendMessageAck> {
    return this.send.execute({
      userId: user.id,
      sessionId: id,
      content: dto.content,
      clientMessageId: dto.clientMessageId ?? randomUUID(),
      ifBusy: dto.ifBusy,
      parentIntentId: dto.parentIntentId,
    });
  }

  @ApiOperation({ summary: "Cancel the session's active run (twin of run:cancel)" })
  @Post('sessions/:id/cancel')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: RunIdDto, description: 'The REST twin of run:cancel' })
  @ApiErrors('NOT_FOUND', 'CONFLICT', 'SESSION_CLOSED')
  cancelRun(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<RunIdResponse> {
    return this.cancel.execute({ userId: user.id, sessionId: id });
  }

  @ApiOperation({
    summary: 'Answer a confirmation, form or retry offer (twin of interaction:respond)',
  })
  @Post('sessions/:id/interactions/:interactionId')
  @HttpCode(200)
  @ApiOkResponse({ type: OkDto, description: 'The REST twin of interaction:respond' })
  @ApiErrors(
    'NOT_FOUND',
    'VALIDATION_FAILED',
    'INTERACTION_RESOLVED',
    'SESSION_BUSY',
    'SESSION_CLOSED',
    'QUOTA_EXCEEDED',
  )
  async respond(
    @CurrentUser() user: AuthUser,
    @Param('id') id: string,
    @Param('interactionId') interactionId: string,
    @Body() dto: RespondDto,
  ): Promise<OkResponse & { ok: true }> {
    await this.answer.execute({
      userId: user.id,
      sessionId: id,
      interactionId,
      response: dto.response,
    });
    return { ok: true };
  }

  @ApiOperation({ summary: 'Resume an interrupted intent (twin of intent:resume)' })
  @Post('sessions/:id/intents/:intentId/resume')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: RunIdDto, description: 'The REST twin of intent:resume' })
  @ApiErrors('NOT_FOUND', 'CONFLICT', 'SESSION_BUSY', 'SESSION_CLOSED', 'QUOTA_EXCEEDED')
  async resumeIntent(
    @CurrentUser() user: AuthUser,
    @Param('id') id: string,
    @Param('intentId') intentId: string,
  ): Promise<RunIdResponse> {
    return { runId: await this.resume.execute({ userId: user.id, sessionId: id, intentId }) };
  }
}
