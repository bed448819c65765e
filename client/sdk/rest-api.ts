import type {
  ApprovalsList,
  CheckoutRequest,
  CreateSessionRequest,
  HeadResponse,
  EventPage,
  ListInteractionsQuery,
  ListSessionsQuery,
  MessageAccepted,
  Page,
  PendingInteraction,
  RenameSessionRequest,
  RespondRequest,
  RunIdResponse,
  SendMessageRequest,
  SessionEvent,
  SessionView,
  SessionWithState,
  StreamTicket,
  ToolsList,
} from '@hitl/contracts';
import type { AuthClient } from './auth.js';
import { ApiError, type HttpTransport } from './http.js';
import type { InteractionResponse } from './responses.js';

const q = (params: Record<string, string | number | undefined>): string => {
  const parts = Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`);
  return parts.length ? `?${parts.join('&')}` : '';
};

/** What a send may add to its text: the busy policy and the intent it follows. */
export type SendOptions = Pick<SendMessageRequest, 'ifBusy' | 'parentIntentId'>;

/** The REST API with the caller's token; a 401 is retried once after a refresh. */
export class RestApi {
  constructor(
    private readonly http: HttpTransport,
    private readonly auth: AuthClient,
  ) {}

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const token = await this.auth.accessToken();
    try {
      return await this.http.request<T>(method, path, { body, token });
    } catch (err) {
      if (!(err instanceof ApiError) || err.code !== 'UNAUTHORIZED') throw err;
      const fresh = await this.auth.refresh();
      return this.http.request<T>(method, path, { body, token: fresh });
    }
  }

  createSession(title?: string): Promise<SessionView> {
    const body: CreateSessionRequest = title ? { title } : {};
    return this.call('POST', '/sessions', body);
  }

  /** One page of the caller's sessions, newest activity first. */
  listSessions(
    opts: Omit<ListSessionsQuery, 'cursor'> & { cursor?: string | null } = {},
  ): Promise<Page<SessionView>> {
    const query = q({ status: opts.status, limit: opts.limit, cursor: opts.cursor ?? undefined });
    return this.call('GET', `/sessions${query}`);
  }

  getSession(id: string): Promise<SessionWithState> {
    return this.call('GET', `/sessions/${encodeURIComponent(id)}`);
  }

  renameSession(id: string, title: string): Promise<SessionView> {
    const body: RenameSessionRequest = { title };
    return this.call('PATCH', `/sessions/${encodeURIComponent(id)}`, body);
  }

  closeSession(id: string): Promise<void> {
    return this.call('DELETE', `/sessions/${encodeURIComponent(id)}`);
  }

  /** Events with seq > afterSeq, in seq order (at most `limit`, up to 1000). */
  events(id: string, afterSeq: number, limit = 500): Promise<EventPage> {
    return this.call('GET', `/sessions/${encodeURIComponent(id)}/events${q({ afterSeq, limit })}`);
  }

  /** The whole history after `afterSeq`, paging until the end. */
  async history(id: string, afterSeq = 0): Promise<SessionEvent[]> {
    const out: SessionEvent[] = [];
    let after = afterSeq;
    for (;;) {
      const page = await this.events(id, after, 1000);
      out.push(...page.items);
      if (!page.hasMore || page.items.length === 0) return out;
      after = page.items[page.items.length - 1].seq;
    }
  }

  sendMessage(
    id: string,
    content: string,
    clientMessageId: string,
    opts: SendOptions = {},
  ): Promise<MessageAccepted> {
    const body: SendMessageRequest = { content, clientMessageId, ...opts };
    return this.call('POST', `/sessions/${encodeURIComponent(id)}/messages`, body);
  }

  respond(id: string, interactionId: string, response: InteractionResponse): Promise<void> {
    const path = `/sessions/${encodeURIComponent(id)}/interactions/${encodeURIComponent(interactionId)}`;
    const body: RespondRequest = { response };
    return this.call('POST', path, body);
  }

  cancel(id: string): Promise<RunIdResponse> {
    return this.call('POST', `/sessions/${encodeURIComponent(id)}/cancel`);
  }

  resume(id: string, intentId: string): Promise<RunIdResponse> {
    const path = `/sessions/${encodeURIComponent(id)}/intents/${encodeURIComponent(intentId)}/resume`;
    return this.call('POST', path);
  }

  regenerate(id: string, intentId: string): Promise<RunIdResponse> {
    const path = `/sessions/${encodeURIComponent(id)}/intents/${encodeURIComponent(intentId)}/regenerate`;
    return this.call('POST', path);
  }

  /** Removes a queued intent (the REST twin of `intent:cancel`). */
  cancelQueued(id: string, intentId: string): Promise<void> {
    return this.call(
      'DELETE',
      `/sessions/${encodeURIComponent(id)}/queue/${encodeURIComponent(intentId)}`,
    );
  }

  checkout(id: string, intentId: string): Promise<HeadResponse> {
    const body: CheckoutRequest = { intentId };
    return this.call('PUT', `/sessions/${encodeURIComponent(id)}/head`, body);
  }

  /** The session's standing grants: tools approved "for this chat", oldest first. */
  listApprovals(id: string): Promise<ApprovalsList> {
    return this.call('GET', `/sessions/${encodeURIComponent(id)}/approvals`);
  }

  /** Revokes a standing grant: the tool asks again from its next call (NOT_FOUND: no grant). */
  revokeApproval(id: string, tool: string): Promise<void> {
    const path = `/sessions/${encodeURIComponent(id)}/approvals/${encodeURIComponent(tool)}`;
    return this.call('DELETE', path);
  }

  /** One page of the user's open questions across all their sessions (the inbox), oldest first. */
  pendingInteractions(
    opts: Omit<ListInteractionsQuery, 'cursor'> & { cursor?: string | null } = {},
  ): Promise<Page<PendingInteraction>> {
    const query = q({ status: 'pending', limit: opts.limit, cursor: opts.cursor ?? undefined });
    return this.call('GET', `/interactions${query}`);
  }

  /** The tools the agent may call, with the JSON schema of their arguments. */
  tools(): Promise<ToolsList> {
    return this.call('GET', '/tools');
  }

  streamTicket(id: string): Promise<StreamTicket> {
    return this.call('POST', `/sessions/${encodeURIComponent(id)}/stream-tickets`);
  }

  streamUrl(id: string, ticket: string, afterSeq: number): string {
    return `${this.http.baseUrl}/sessions/${encodeURIComponent(id)}/stream${q({ ticket, afterSeq })}`;
  }
}
