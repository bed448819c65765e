import { randomUUID } from 'node:crypto';
import type { Socket } from 'socket.io-client';
import {
  ask,
  connectSocket,
  createSession,
  getJson,
  mapLimit,
  percentile,
  registerUser,
  type WireEvent,
} from './fleet.js';
import type { ServerChild } from './processes.js';

const TERMINAL = new Set(['task_completed', 'task_failed', 'task_cancelled']);

/** Sends one message and resolves once its run ended, with the time to the first event. */
function sendAndWait(socket: Socket, sessionId: string, content: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let first: number | undefined;
    const timer = setTimeout(() => {
      socket.off('session:event', onEvent);
      reject(new Error(`run of "${content}" did not end`));
    }, 120_000);
    const onEvent = (e: WireEvent): void => {
      first ??= performance.now() - sent;
      if (!TERMINAL.has(e.type)) return;
      clearTimeout(timer);
      socket.off('session:event', onEvent);
      resolve(first);
    };
    socket.on('session:event', onEvent);
    const sent = performance.now();
    ask<{ ok: boolean }>(socket, 'message:send', {
      sessionId,
      content,
      clientMessageId: randomUUID(),
    }).then(
      (ack) => {
        if (!ack.ok) reject(new Error(`send failed: ${JSON.stringify(ack)}`));
      },
      (err: unknown) => reject(err instanceof Error ? err : new Error(String(err))),
    );
  });
}

async function openTab(
  baseUrl: string,
): Promise<{ socket: Socket; sessionId: string; token: string }> {
  const token = await registerUser(baseUrl, 'one');
  const sessionId = await createSession(baseUrl, token);
  const socket = await connectSocket(baseUrl, token);
  await ask(socket, 'session:join', { sessionId });
  return { socket, sessionId, token };
}

/** send → first event of the run (the user_message), one send at a time on an idle server. */
export async function firstEventLatency(
  node: ServerChild,
  sends: number,
): Promise<{ p50: number; p99: number; sends: number }> {
  const { socket, sessionId } = await openTab(node.baseUrl);
  const times: number[] = [];
  try {
    for (let i = 0; i < sends; i++) times.push(await sendAndWait(socket, sessionId, 'count to 3'));
  } finally {
    socket.close();
  }
  return { p50: percentile(times, 50), p99: percentile(times, 99), sends };
}

export interface ReplayResult {
  events: number;
  /** Median of `rounds` full replays: join (first page) + REST pages of 1000 until the end. */
  ms: number;
  pages: number;
  contiguous: boolean;
}

/**
 * Grows one session to at least `events` events with streamed runs, then times a fresh client
 * catching up from seq 0: `session:join` (its first page) and `GET /sessions/:id/events` pages.
 */
export async function replayTime(
  node: ServerChild,
  events: number,
  rounds: number,
): Promise<ReplayResult> {
  const { socket, sessionId, token } = await openTab(node.baseUrl);
  let lastSeq = 0;
  socket.on('session:event', (e: WireEvent) => (lastSeq = Math.max(lastSeq, e.seq)));
  while (lastSeq < events) {
    await sendAndWait(socket, sessionId, `count to ${Math.min(10_000, events)}`);
  }
  socket.close();
  const times: number[] = [];
  let pages = 0;
  let contiguous = true;
  await mapLimit(
    Array.from({ length: rounds }, (_, i) => i),
    1,
    async () => {
      const reader = await connectSocket(node.baseUrl, token);
      const started = performance.now();
      const joined = await ask<{ events: WireEvent[]; hasMore: boolean }>(reader, 'session:join', {
        sessionId,
      });
      const seqs = joined.events.map((e) => e.seq);
      let hasMore = joined.hasMore;
      pages = 1;
      while (hasMore) {
        const after = seqs[seqs.length - 1] ?? 0;
        const page = await getJson<{ items: WireEvent[]; hasMore: boolean }>(
          `${node.baseUrl}/sessions/${sessionId}/events?afterSeq=${after}&limit=1000`,
          token,
        );
        for (const e of page.items) seqs.push(e.seq);
        hasMore = page.hasMore;
        pages++;
      }
      times.push(performance.now() - started);
      reader.close();
      contiguous &&= seqs.length >= lastSeq && seqs.every((s, i) => s === i + 1);
    },
  );
  return { events: lastSeq, ms: percentile(times, 50), pages, contiguous };
}
