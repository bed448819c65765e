import { Controller, Get, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiHeader,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { CurrentUser, Public } from '../auth/auth.decorators.js';
import { JwtStrategy } from '../auth/jwt.strategy.js';
import { ApiErrors } from '../common/api-errors.decorator.js';
import { DomainError } from '../common/domain-error.js';
import { FaultPoints } from '../common/fault-points.js';
import { SessionStreamService } from '../sessions/session-stream.service.js';
import type { SessionRow } from '../sessions/sessions.repository.js';
import { SessionsService } from '../sessions/sessions.service.js';
import type { AuthUser } from '../users/user.types.js';
import { StreamQueryDto, StreamTicketDto } from './dto/stream.dto.js';
import { StreamLifetimeService } from './stream-lifetime.service.js';
import { StreamTicketsService } from './stream-tickets.service.js';

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

/** `exp` of the (already verified) bearer token, in epoch ms. */
function bearerExpiryMs(req: Request): number | undefined {
  const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
  const payload = token?.split('.')[1];
  if (!payload) return undefined;
  const exp = (JSON.parse(Buffer.from(payload, 'base64url').toString()) as { exp?: unknown }).exp;
  return typeof exp === 'number' ? exp * 1000 : undefined;
}

@ApiTags('sessions')
@ApiBearerAuth()
@ApiErrors('UNAUTHORIZED')
@Controller('sessions')
export class SessionStreamController {
  constructor(
    @Inject(SessionsService) private readonly sessions: SessionsService,
    @Inject(SessionStreamService) private readonly streams: SessionStreamService,
    @Inject(StreamTicketsService) private readonly tickets: StreamTicketsService,
    @Inject(StreamLifetimeService) private readonly lifetime: StreamLifetimeService,
    @Inject(JwtStrategy) private readonly jwt: JwtStrategy,
    @Inject(FaultPoints) private readonly faults: FaultPoints,
  ) {}

  @ApiOperation({ summary: 'Get a one-time ticket for the SSE stream' })
  @Post(':id/stream-tickets')
  @HttpCode(201)
  @ApiCreatedResponse({
    type: StreamTicketDto,
    description: 'A single-use ticket for `GET /sessions/{id}/stream?ticket=`, valid 60 s',
  })
  @ApiErrors('NOT_FOUND')
  async ticket(
    @CurrentUser() user: AuthUser,
    @Param('id') id: string,
  ): Promise<{ ticket: string; expiresAt: string }> {
    const session = await this.sessions.requireOwned(user.id, id);
    return this.tickets.issue(user.id, session.id);
  }

  @ApiOperation({ summary: "Follow a session's events over Server-Sent Events" })
  @Get(':id/stream')
  @Public()
  @ApiProduces('text/event-stream')
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'Resume after this seq' })
  @ApiOkResponse({
    description:
      'Server-Sent Events: `event: session_event`, `id:` the seq, `data:` the Event JSON; a comment ping every 15 s. ' +
      'Authorized by the Bearer header or by `?ticket=`. Ends when the session is closed, the user is disabled, or (header auth) the token expires.',
  })
  @ApiNoContentResponse({
    description:
      'The session is closed and nothing follows the position (resumed at or after `session_closed`): no stream, and an EventSource stops reconnecting.',
  })
  @ApiErrors('NOT_FOUND', 'VALIDATION_FAILED')
  async stream(
    @Param('id') id: string,
    @Query() q: StreamQueryDto,
    @Req() req: Request & { user?: AuthUser },
    @Res() res: Response,
  ): Promise<void> {
    // Hooked before the first await: a client that leaves while the checks below read the
    // database has fired 'close' by the time they finish, and a handler attached then never runs.
    const gone = new AbortController();
    res.on('close', () => gone.abort('client gone'));
    const after = lastEventId(req) ?? q.afterSeq ?? 0;
    let session: SessionRow;
    let expiresAtMs: number | undefined;
    if (q.ticket !== undefined && req.headers.authorization === undefined) {
      session = await this.sessions.requireOwned(await this.tickets.holder(q.ticket, id), id);
      await this.faults.hit('stream.ticket-checked');
      // Used only now, after every check that can refuse the request: a refused one keeps it.
      await this.tickets.use(q.ticket);
    } else {
      const user = await this.jwt.authenticate(req);
      req.user = user;
      expiresAtMs = bearerExpiryMs(req);
      session = await this.sessions.requireOwned(user.id, id);
    }
    await this.faults.hit('stream.authorized');
    if (gone.signal.aborted) return;
    const stop = this.lifetime.watch(session.user_id, expiresAtMs);
    gone.signal.addEventListener('abort', () => stop.abort(gone.signal.reason));
    // A closed session (final) lets the stream answer 204 when nothing follows the position.
    await this.streams.stream(
      req,
      res,
      session.id,
      after,
      stop.signal,
      session.status !== 'active',
    );
  }
}
