import { createHash, randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { DomainError } from '../common/domain-error.js';
import { UsersService } from '../users/users.service.js';
import { StreamTicketsRepository } from './stream-tickets.repository.js';

const STREAM_TICKET_TTL_MS = 60_000;
/** Used and expired tickets are kept this long (for investigating), then removed on the next issue. */
const KEEP_EXPIRED_MS = 60 * 60_000;

const hash = (ticket: string): string => createHash('sha256').update(ticket).digest('hex');
const isWellFormed = (ticket: string): boolean => /^[\w-]{20,100}$/.test(ticket);
const invalid = (): DomainError =>
  DomainError.unauthorized('Invalid, used or expired stream ticket');

/**
 * Stream tickets: a browser's EventSource cannot send an Authorization header, so the client
 * trades its bearer token for a ticket first. A ticket is random, single use, valid 60 s and bound
 * to one user and one session; the database holds only its hash.
 */
@Injectable()
export class StreamTicketsService {
  private readonly logger = new Logger(StreamTicketsService.name);

  constructor(
    @Inject(StreamTicketsRepository) private readonly tickets: StreamTicketsRepository,
    @Inject(UsersService) private readonly users: UsersService,
  ) {}

  async issue(userId: string, sessionId: string): Promise<{ ticket: string; expiresAt: string }> {
    const ticket = randomBytes(32).toString('base64url');
    const now = Date.now();
    const expiresAt = new Date(now + STREAM_TICKET_TTL_MS);
    await this.tickets.deleteExpiredBefore(new Date(now - KEEP_EXPIRED_MS));
    await this.tickets.insert({ ticketHash: hash(ticket), userId, sessionId, expiresAt });
    this.logger.log({ userId, sessionId }, 'stream ticket issued');
    return { ticket, expiresAt: expiresAt.toISOString() };
  }

  /**
   * The user the ticket was issued to, if it is valid for this session and the user still
   * enabled; UNAUTHORIZED otherwise. It does not use the ticket: the caller makes its own checks,
   * then calls `use`, so a request refused for any reason leaves the ticket as it was.
   */
  async holder(ticket: string, sessionId: string): Promise<string> {
    const found = isWellFormed(ticket) ? await this.tickets.findValid(hash(ticket)) : undefined;
    if (!found || found.sessionId !== sessionId) throw invalid();
    // As for a bearer token, the user is read again: one disabled since the ticket was issued is out.
    const user = await this.users.findById(found.userId);
    if (!user || user.disabled) throw DomainError.unauthorized('This account is disabled');
    return found.userId;
  }

  /** Uses the ticket up; UNAUTHORIZED when another request used it first (or it just expired). */
  async use(ticket: string): Promise<void> {
    if (!(await this.tickets.use(hash(ticket)))) throw invalid();
  }
}
