import type { EventDataMap, EventType, InboxEvent, SessionEvent } from '@hitl/contracts';
import { SSE_EVENT_NAME } from '@hitl/contracts';
import { HitlClient } from './hitl-client.js';
import { ApiError } from './http.js';
import { Inbox } from './inbox.js';
import { initialChatState, reduceChat, reduceEvents } from './reducer.js';
import type { RestApi } from './rest-api.js';

const event = <T extends EventType>(seq: number, type: T, data: EventDataMap[T]): SessionEvent =>
  ({ sessionId: 's', seq, type, createdAt: '', data }) as SessionEvent;

describe('reducer: standing grants', () => {
  it('adds a grant on approval_granted and drops it on approval_revoked', () => {
    const granted = reduceEvents([
      event(1, 'approval_granted', { tool: 'search_docs', scope: 'session', interactionId: 'i1' }),
      event(2, 'approval_granted', { tool: 'calculator', scope: 'session', interactionId: 'i2' }),
    ]);
    expect(granted.grants).toEqual({
      search_docs: { tool: 'search_docs', interactionId: 'i1', seq: 1 },
      calculator: { tool: 'calculator', interactionId: 'i2', seq: 2 },
    });
    const revoked = reduceChat(granted, event(3, 'approval_revoked', { tool: 'search_docs' }));
    expect(revoked.grants).toEqual({
      calculator: { tool: 'calculator', interactionId: 'i2', seq: 2 },
    });
    expect(granted.grants.search_docs).toBeDefined(); // the earlier state is not changed
  });

  it('grants again after a revoke, and ignores a revoke of a tool it never saw granted', () => {
    const s = reduceEvents([
      event(1, 'approval_revoked', { tool: 'search_docs' }),
      event(2, 'approval_granted', { tool: 'search_docs', scope: 'session', interactionId: 'a' }),
      event(3, 'approval_revoked', { tool: 'search_docs' }),
      event(4, 'approval_granted', { tool: 'search_docs', scope: 'session', interactionId: 'b' }),
    ]);
    expect(s.grants).toEqual({ search_docs: { tool: 'search_docs', interactionId: 'b', seq: 4 } });
    expect(initialChatState.grants).toEqual({});
  });

  it('keeps the confirmation open until its interaction_resolved, then clears it', () => {
    const asked = reduceEvents([
      event(1, 'request_confirmation', {
        interactionId: 'i1',
        tool: 'search_docs',
        arguments: { query: 'replay' },
        message: 'Run search_docs?',
        expiresAt: '2030-01-01T00:00:00.000Z',
      }),
    ]);
    expect(asked.pending).toMatchObject({ kind: 'confirm', tool: 'search_docs', id: 'i1' });
    const resolved = reduceChat(
      asked,
      event(2, 'interaction_resolved', {
        interactionId: 'i1',
        outcome: 'approved',
        arguments: { query: 'metrics' },
        edited: true,
        scope: 'session',
      }),
    );
    expect(resolved.pending).toBeNull();
  });
});

describe('ApiError.fieldErrors', () => {
  it("names a confirmation's edited arguments by their path", () => {
    const err = new ApiError('VALIDATION_FAILED', 'Invalid', 400, [
      { field: 'response.arguments.query', problems: ['must be string'] },
      { field: 'response.arguments.a.0', problems: ['is required', 'must not be blank'] },
      { field: 'response.reason', problems: ['must not be blank'] },
    ]);
    expect(err.fieldErrors('response.arguments.')).toEqual({
      query: 'must be string',
      'a.0': 'is required; must not be blank',
      'response.reason': 'must not be blank',
    });
    expect(
      new ApiError('VALIDATION_FAILED', 'x', 400, [{ field: 'values.time' }]).fieldErrors(),
    ).toEqual({ time: 'x' });
  });
});

/** A stand-in for GET /interactions?status=pending whose answers the test releases one by one. */
function fakeApi() {
  const reads: { resolve: (ids: string[]) => void; reject: (err: unknown) => void }[] = [];
  const api = {
    pendingInteractions: () =>
      new Promise((resolve, reject) =>
        reads.push({
          reject,
          resolve: (ids: string[]) =>
            resolve({
              items: ids.map((interactionId) => ({
                interactionId,
                sessionId: 's',
                sessionTitle: null,
                kind: 'confirm',
                createdAt: '',
                expiresAt: '',
              })),
              nextCursor: null,
            }),
        }),
      ),
  } as unknown as RestApi;
  return { api, reads };
}

const inboxEvent = (interactionId: string, status: InboxEvent['status']): InboxEvent => ({
  interactionId,
  sessionId: 's',
  kind: 'confirm',
  status,
  seq: 1,
});
const flush = () => new Promise((r) => setTimeout(r, 0));

describe('Inbox', () => {
  it('reads the list when first followed, and again on each event', async () => {
    const { api, reads } = fakeApi();
    const inbox = new Inbox(api);
    const seen: string[][] = [];
    inbox.onChange((items) => seen.push(items.map((i) => i.interactionId)));
    expect(reads).toHaveLength(1);
    reads[0].resolve(['a']);
    await flush();
    inbox.receive(inboxEvent('b', 'pending'));
    expect(reads).toHaveLength(2);
    reads[1].resolve(['a', 'b']);
    await flush();
    expect(seen).toEqual([['a'], ['a', 'b']]);
  });

  it('drops an item at once on resolved, and does not show a read older than an event', async () => {
    const { api, reads } = fakeApi();
    const inbox = new Inbox(api);
    inbox.onChange(() => undefined);
    reads[0].resolve(['a', 'b']);
    await flush();
    expect(inbox.items.map((i) => i.interactionId)).toEqual(['a', 'b']);
    // The resolution of b arrives while a read (started by an event before it) is under way.
    inbox.receive(inboxEvent('c', 'pending'));
    inbox.receive(inboxEvent('b', 'resolved'));
    expect(inbox.items.map((i) => i.interactionId)).toEqual(['a']);
    expect(reads).toHaveLength(2); // coalesced: one read at a time
    reads[1].resolve(['a', 'b', 'c']); // read before b's answer committed: not shown
    await flush();
    expect(inbox.items.map((i) => i.interactionId)).toEqual(['a']);
    expect(reads).toHaveLength(3);
    reads[2].resolve(['a', 'c']);
    await flush();
    expect(inbox.items.map((i) => i.interactionId)).toEqual(['a', 'c']);
  });

  it('converges when a pending event arrives after its resolved one (nodes out of order)', async () => {
    const { api, reads } = fakeApi();
    const inbox = new Inbox(api);
    inbox.onChange(() => undefined);
    reads[0].resolve([]);
    await flush();
    inbox.receive(inboxEvent('x', 'resolved'));
    reads[1].resolve([]);
    await flush();
    inbox.receive(inboxEvent('x', 'pending')); // late: x is already answered
    reads[2].resolve([]);
    await flush();
    expect(inbox.items).toEqual([]);
  });

  it('passes every event to onEvent, and reads nothing while nobody follows the list', () => {
    const { api, reads } = fakeApi();
    const inbox = new Inbox(api);
    const events: InboxEvent[] = [];
    inbox.onEvent((e) => events.push(e));
    inbox.receive(inboxEvent('a', 'pending'));
    expect(events).toEqual([inboxEvent('a', 'pending')]);
    expect(reads).toHaveLength(0);
  });

  it('forgets the list on reset (sign-out), and drops a read started before it', async () => {
    const { api, reads } = fakeApi();
    const inbox = new Inbox(api);
    const seen: string[][] = [];
    inbox.onChange((items) => seen.push(items.map((i) => i.interactionId)));
    reads[0].resolve(['a1']);
    await flush();
    inbox.receive(inboxEvent('a2', 'pending')); // A's read under way when A signs out
    inbox.reset();
    expect(inbox.items).toEqual([]);
    expect(seen).toEqual([['a1'], []]);
    expect(reads).toHaveLength(3); // the follower still follows: B's list is read at once
    reads[1].resolve(['a1', 'a2']); // A's late answer: not shown to B
    await flush();
    expect(inbox.items).toEqual([]);
    reads[2].resolve(['b1']);
    await flush();
    expect(inbox.items.map((i) => i.interactionId)).toEqual(['b1']);
  });

  it('retries a failed read with backoff while followed, and stops when unfollowed', async () => {
    const { api, reads } = fakeApi();
    const errors: unknown[] = [];
    const inbox = new Inbox(api, (e) => errors.push(e), { retryBaseMs: 1, retryMaxMs: 5 });
    const off = inbox.onChange(() => undefined);
    reads[0].resolve([]);
    await flush();
    inbox.receive(inboxEvent('x', 'pending'));
    reads[1].reject(new Error('503'));
    await flush();
    expect(errors).toHaveLength(1);
    await until(() => reads.length === 3);
    reads[2].resolve(['x']);
    await flush();
    expect(inbox.items.map((i) => i.interactionId)).toEqual(['x']);
    inbox.receive(inboxEvent('y', 'pending'));
    reads[3].reject(new Error('503'));
    await flush();
    off();
    await new Promise((r) => setTimeout(r, 20));
    expect(reads).toHaveLength(4); // nobody follows: no retry
  });
});

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).toBe(true);
}

describe('Inbox over the SSE fallback', () => {
  it('reads the list when a stream opens and when the room sees a question come or go', async () => {
    let inboxReads = 0;
    const fetchImpl = (url: string): Promise<Response> => {
      let body: unknown = { items: [], hasMore: false, nextCursor: null };
      if (url.includes('/auth/'))
        body = { user: { id: 'u' }, accessToken: 't', refreshToken: 'r', expiresIn: 900 };
      else if (url.includes('/stream-tickets')) body = { ticket: 'k' };
      else if (url.includes('/interactions')) inboxReads++;
      else if (url.endsWith('/sessions/s')) body = { state: { run: null } };
      return Promise.resolve(new Response(JSON.stringify(body), { status: 200 }));
    };
    const streams: { fire: (e: unknown) => void; onopen: ((e: unknown) => void) | null }[] = [];
    const client = new HitlClient({
      fetch: fetchImpl,
      sseAfterFailures: 0, // no socket at all: joined sessions follow over SSE at once
      eventSource: () => {
        const handlers: ((m: { data: string }) => void)[] = [];
        const es = {
          onopen: null as ((e: unknown) => void) | null,
          onerror: null,
          addEventListener: (type: string, fn: (m: { data: string }) => void) => {
            if (type === SSE_EVENT_NAME) handlers.push(fn);
          },
          close: () => undefined,
          fire: (e: unknown) => handlers.forEach((h) => h({ data: JSON.stringify(e) })),
        };
        streams.push(es);
        return es;
      },
    });
    await client.auth.login('a@b.c', 'password123');
    client.inbox.onChange(() => undefined);
    await until(() => inboxReads === 1);
    await client.join('s');
    await until(() => streams.length === 1);
    streams[0].onopen?.({});
    await until(() => inboxReads === 2);
    const confirm = { interactionId: 'i', tool: 't', message: 'm', arguments: {} };
    streams[0].fire(event(1, 'request_confirmation', confirm as never));
    await until(() => inboxReads === 3);
    streams[0].fire(event(2, 'response', { content: 'x' }));
    streams[0].fire(event(3, 'task_failed', { error: 'e', attempt: 1, canRetry: false }));
    await flush();
    expect(inboxReads).toBe(3); // nothing about a question: no read
    streams[0].fire(event(4, 'interaction_resolved', { interactionId: 'i' } as never));
    await until(() => inboxReads === 4);
  });
});
