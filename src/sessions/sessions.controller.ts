import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Post,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiHeader,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { CurrentUser } from '../auth/auth.decorators.js';
import { ApiErrors } from '../common/api-errors.decorator.js';
import { DomainError } from '../common/domain-error.js';
import type { SessionEvent } from '../contracts/events.js';
import type { AuthUser } from '../users/user.types.js';
import {
  CreateSessionDto,
  EventPageDto,
  EventsQueryDto,
  ListSessionsQueryDto,
  SessionDto,
  SessionPageDto,
  SessionWithStateDto,
  StreamQueryDto,
} from './dto/sessions.dto.js';
import { SessionStreamService } from './session-stream.service.js';
import type { SessionView, SessionWithState } from './session.types.js';
import { SessionsService } from './sessions.service.js';

function lastEventId(req: Request): number | undefined {
  const raw = req.headers['last-event-id'];
  if (raw === undefined || raw === '') return undefined;
  if (typeof raw !== 'string' || !/^\d{1,15}$/.test(raw.trim())) {
    throw DomainError.validation('Last-Event-ID must be a seq', [
      { field: 'Last-Event-ID', problems: ['must be a non-negative integer'] },
    ]);
  }
  return Number(raw.trim());
}

@ApiTags('sessions')
@ApiBearerAuth()
@ApiErrors('UNAUTHORIZED')
@Controller('sessions')
export class SessionsController {
  constructor(
    @Inject(SessionsService) private readonly sessions: SessionsService,
    @Inject(SessionStreamService) private readonly streams: SessionStreamService,
  ) {}

  @Post()
  @ApiCreatedResponse({ type: SessionDto })
  @ApiErrors('VALIDATION_FAILED')
  create(@CurrentUser() user: AuthUser, @Body() dto: CreateSessionDto): Promise<SessionView> {
    return this.sessions.create(user.id, dto.title);
  }

  @Get()
  @ApiOkResponse({ type: SessionPageDto, description: 'Newest activity first' })
  @ApiErrors('VALIDATION_FAILED')
  list(
    @CurrentUser() user: AuthUser,
    @Query() q: ListSessionsQueryDto,
  ): Promise<{ items: SessionView[]; nextCursor: string | null }> {
    return this.sessions.list(user.id, q);
  }

  @Get(':id')
  @ApiOkResponse({ type: SessionWithStateDto })
  @ApiErrors('NOT_FOUND')
  get(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<SessionWithState> {
    return this.sessions.get(user.id, id);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Closed: history kept, new messages get SESSION_CLOSED' })
  @ApiErrors('NOT_FOUND')
  close(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<void> {
    return this.sessions.close(user.id, id);
  }

  @Get(':id/events')
  @ApiOkResponse({ type: EventPageDto, description: 'Events with seq > afterSeq, in seq order' })
  @ApiErrors('NOT_FOUND', 'VALIDATION_FAILED')
  events(
    @CurrentUser() user: AuthUser,
    @Param('id') id: string,
    @Query() q: EventsQueryDto,
  ): Promise<{ items: SessionEvent[]; hasMore: boolean }> {
    return this.sessions.events(user.id, id, q.afterSeq ?? 0, q.limit ?? 100);
  }

  @Get(':id/stream')
  @ApiProduces('text/event-stream')
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'Resume after this seq' })
  @ApiOkResponse({
    description:
      'Server-Sent Events: `event: session_event`, `id:` the seq, `data:` the Event JSON; a comment ping every 15 s',
  })
  @ApiErrors('NOT_FOUND', 'VALIDATION_FAILED')
  async stream(
    @CurrentUser() user: AuthUser,
    @Param('id') id: string,
    @Query() q: StreamQueryDto,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const after = lastEventId(req) ?? q.afterSeq ?? 0;
    const session = await this.sessions.requireOwned(user.id, id);
    await this.streams.stream(req, res, session.id, after);
  }
}
