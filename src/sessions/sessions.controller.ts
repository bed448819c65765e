import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Patch,
  Post,
  Query,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentUser } from '../auth/auth.decorators.js';
import { ApiErrors } from '../common/api-errors.decorator.js';
import type { EventPage, Page } from '../contracts/rest.js';
import type { AuthUser } from '../users/user.types.js';
import {
  CreateSessionDto,
  EventPageDto,
  EventsQueryDto,
  ListSessionsQueryDto,
  RenameSessionDto,
  SessionDto,
  SessionPageDto,
  SessionWithStateDto,
} from './dto/sessions.dto.js';
import type { SessionView, SessionWithState } from '../contracts/session.js';
import { SessionsService } from './sessions.service.js';
import { CreateSessionUseCase } from './usecases/create-session.usecase.js';
import { CloseSessionUseCase } from './usecases/close-session.usecase.js';
import { RenameSessionUseCase } from './usecases/rename-session.usecase.js';

@ApiTags('sessions')
@ApiBearerAuth()
@ApiErrors('UNAUTHORIZED')
@Controller('sessions')
export class SessionsController {
  constructor(
    @Inject(SessionsService) private readonly sessions: SessionsService,
    @Inject(CreateSessionUseCase) private readonly createSession: CreateSessionUseCase,
    @Inject(CloseSessionUseCase) private readonly closeSession: CloseSessionUseCase,
    @Inject(RenameSessionUseCase) private readonly renameSession: RenameSessionUseCase,
  ) {}

  @ApiOperation({ summary: 'Create a session' })
  @Post()
  @ApiCreatedResponse({ type: SessionDto })
  @ApiErrors('VALIDATION_FAILED', 'RATE_LIMITED', 'QUOTA_EXCEEDED')
  create(@CurrentUser() user: AuthUser, @Body() dto: CreateSessionDto): Promise<SessionView> {
    return this.createSession.execute(user.id, dto.title);
  }

  @ApiOperation({ summary: "List the user's sessions, newest activity first" })
  @Get()
  @ApiOkResponse({ type: SessionPageDto, description: 'Newest activity first' })
  @ApiErrors('VALIDATION_FAILED')
  list(
    @CurrentUser() user: AuthUser,
    @Query() q: ListSessionsQueryDto,
  ): Promise<Page<SessionView>> {
    return this.sessions.list(user.id, q);
  }

  @ApiOperation({ summary: 'A session with its state (run, pending interaction)' })
  @Get(':id')
  @ApiOkResponse({ type: SessionWithStateDto })
  @ApiErrors('NOT_FOUND')
  get(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<SessionWithState> {
    return this.sessions.get(user.id, id);
  }

  @ApiOperation({ summary: 'Rename a session' })
  @Patch(':id')
  @ApiOkResponse({ type: SessionDto })
  @ApiErrors('NOT_FOUND', 'VALIDATION_FAILED')
  rename(
    @CurrentUser() user: AuthUser,
    @Param('id') id: string,
    @Body() dto: RenameSessionDto,
  ): Promise<SessionView> {
    return this.renameSession.execute(user.id, id, dto.title);
  }

  @ApiOperation({ summary: 'Close a session' })
  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Closed: history kept, new messages get SESSION_CLOSED' })
  @ApiErrors('NOT_FOUND')
  async close(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<void> {
    await this.closeSession.execute({ sessionId: id, by: 'user', ownerId: user.id });
  }

  @ApiOperation({ summary: "Page through a session's event log by seq" })
  @Get(':id/events')
  @ApiOkResponse({ type: EventPageDto, description: 'Events with seq > afterSeq, in seq order' })
  @ApiErrors('NOT_FOUND', 'VALIDATION_FAILED')
  events(
    @CurrentUser() user: AuthUser,
    @Param('id') id: string,
    @Query() q: EventsQueryDto,
  ): Promise<EventPage> {
    return this.sessions.events(user.id, id, q.afterSeq ?? 0, q.limit ?? 100);
  }
}
