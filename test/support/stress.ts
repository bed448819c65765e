import { Http } from './http.js';
import { checkSessionLog, checkSocketStream, type LogEvent } from './log-invariants.js';
import { ask, type ClientSocket, connect } from './socket.js';

/** mulberry32: a small seeded generator, so a seed replays the same choices. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function stressSeed(): number {
  const given = Number(process.env.STRESS_SEED);
  return Number.isInteger(given) && given > 0 ? given : 1 + Math.floor(Math.random() * 2 ** 31);
}

const MESSAGES = ['count to 50', 'search x', 'remind me', 'what is 1+2'];
/** Errors an action may get by racing the others; anything else is a finding. */
const EXPECTED: Record<string, string[]> = {
  'message:send': ['SESSION_BUSY'],
  // SESSION_BUSY: a retry accepted while another run of the session (a resumed intent) goes on.
  'interaction:respond': ['INTERACTION_RESOLVED', 'NOT_FOUND', 'VALIDATION_FAILED', 'SESSION_BUSY'],
  'run:cancel': ['CONFLICT'],
  'intent:resume': ['CONFLICT', 'SESSION_BUSY'],
};

/** One browser tab: a socket joined to one session, keeping what it received live. */
export class StressTab {
  readonly live: LogEvent[] = [];
  joinedAfter = -1;
  /** Why the socket closed while the test still used it (the test closes them all at the end). */
  disconnectedBecause: string | undefined;

  constructor(
    readonly label: string,
    readonly socket: ClientSocket,
    readonly sessionId: string,
    private readonly seen: LogEvent[] = [],
  ) {
    socket.on('session:event', (e: LogEvent & { sessionId: string }) => {
      if (e.sessionId !== sessionId) return;
      this.live.push(e);
      this.seen.push(e);
    });
    socket.on('disconnect', (reason, details) => {
      const detail = details instanceof Error ? `: ${details.message}` : '';
      this.disconnectedBecause = `${reason}${detail} at ${new Date().toISOString()}`;
    });
  }

  static async open(baseUrl: string, token: string, sessionId: string, label: string) {
    const socket = await connect(baseUrl, token);
    return new StressTab(label, socket, sessionId);
  }

  /** Joins after `afterSeq` (kept under the replay cap of 500 by the caller). */
  async join(afterSeq = 0): Promise<void> {
    const r = await ask(
      this.socket,
      'session:join',
      { sessionId: this.sessionId, afterSeq },
      20_000,
    );
    if (!r.ok) throw new Error(`${this.label}: join failed ${JSON.stringify(r)}`);
    const events = r.events as LogEvent[];
    this.seen.push(...events);
    this.joinedAfter = events.length > 0 ? events[events.length - 1].seq : afterSeq;
  }

  get lastSeen(): number {
    return this.live.at(-1)?.seq ?? this.joinedAfter;
  }

  /** The newest question this tab saw asked and not answered. */
  openQuestion(): { id: string; kind: 'confirm' | 'form' | 'retry'; fields: any[] } | undefined {
    const resolved = new Set(
      this.seen.filter((e) => e.type === 'interaction_resolved').map((e) => e.data.interactionId),
    );
    for (let i = this.seen.length - 1; i >= 0; i--) {
      const e = this.seen[i];
      const id = e.data?.interactionId as string | undefined;
      if (!id || resolved.has(id) || e.type === 'interaction_resolved') continue;
      if (e.type === 'request_confirmation') return { id, kind: 'confirm', fields: [] };
      if (e.type === 'component') return { id, kind: 'form', fields: e.data.fields };
      if (e.type === 'task_failed') return { id, kind: 'retry', fields: [] };
    }
    return undefined;
  }

  intents(): string[] {
    return [...new Set(this.seen.map((e) => e.intentId).filter((x): x is string => !!x))];
  }
}

export interface StressSession {
  id: string;
  token: string;
  http: Http;
}

/** Drives random actions on the tabs, records acked cancels and unexpected acks. */
export class StressDriver {
  readonly ackedCancels = new Map<string, Set<string>>();
  /** Runs that sends and resumes were acked with, per session: each must end in the log. */
  readonly ackedRuns = new Map<string, Set<string>>();
  readonly findings: string[] = [];
  actions = 0;

  constructor(
    private readonly rnd: () => number,
    private readonly tabs: StressTab[],
    private readonly onSend: () => void = () => undefined,
  ) {}

  private pick<T>(xs: T[]): T {
    return xs[Math.floor(this.rnd() * xs.length)];
  }

  async run(workers: number, untilMs: number): Promise<void> {
    await Promise.all(Array.from({ length: workers }, () => this.worker(untilMs)));
  }

  private async worker(untilMs: number): Promise<void> {
    while (Date.now() < untilMs) {
      const tab = this.pick(this.tabs.filter((t) => t.joinedAfter >= 0));
      if (tab) await this.act(tab);
      await new Promise((r) => setTimeout(r, Math.floor(this.rnd() * 120)));
    }
  }

  private async act(tab: StressTab): Promise<void> {
    const r = this.rnd();
    const sessionId = tab.sessionId;
    this.actions += 1;
    if (r < 0.35) {
      this.onSend();
      const content = this.pick(MESSAGES);
      const ack = await this.call(tab, 'message:send', {
        sessionId,
        content,
        clientMessageId: `m${this.actions}`,
      });
      if (ack?.ok) this.started(sessionId, ack.runId as string);
    } else if (r < 0.55) {
      const ack = await this.call(tab, 'run:cancel', { sessionId });
      if (ack?.ok) this.cancelled(sessionId, ack.runId as string);
    } else if (r < 0.9) {
      const q = tab.openQuestion();
      if (q)
        await this.call(tab, 'interaction:respond', {
          sessionId,
          interactionId: q.id,
          response: this.answer(q),
        });
    } else {
      const intentId = this.pick(tab.intents());
      if (!intentId) return;
      const ack = await this.call(tab, 'intent:resume', { sessionId, intentId });
      if (ack?.ok) this.started(sessionId, ack.runId as string);
    }
  }

  cancelled(sessionId: string, runId: string): void {
    const set = this.ackedCancels.get(sessionId) ?? new Set<string>();
    set.add(runId);
    this.ackedCancels.set(sessionId, set);
  }

  private started(sessionId: string, runId: string): void {
    const set = this.ackedRuns.get(sessionId) ?? new Set<string>();
    set.add(runId);
    this.ackedRuns.set(sessionId, set);
  }

  private answer(q: { kind: string; fields: any[] }): unknown {
    if (q.kind === 'confirm') return { approved: this.rnd() < 0.5 };
    if (q.kind === 'retry') return { retry: this.rnd() < 0.6 };
    const soon = new Date(Date.now() + 3_600_000).toISOString();
    return {
      values: Object.fromEntries(
        q.fields.map((f: { name: string; type: string }) => [
          f.name,
          f.name === 'time' || f.type === 'datetime' ? soon : 'stress',
        ]),
      ),
    };
  }

  private async call(tab: StressTab, event: string, payload: object): Promise<any> {
    let ack: any;
    try {
      ack = await ask(tab.socket, event, payload, 15_000);
    } catch (err) {
      this.findings.push(`[no-ack] ${tab.label} ${event}: ${(err as Error).message}`);
      return undefined;
    }
    if (!ack.ok && !EXPECTED[event]?.includes(ack.error?.code))
      this.findings.push(
        `[unexpected-ack] ${tab.label} ${event} ${JSON.stringify(payload)}: ${JSON.stringify(ack.error)}`,
      );
    return ack;
  }
}

/** The whole log of a session over REST. */
export async function readLog(s: StressSession): Promise<LogEvent[]> {
  const out: LogEvent[] = [];
  for (;;) {
    const r = await s.http.get(
      `/sessions/${s.id}/events?afterSeq=${out.length}&limit=1000`,
      s.token,
    );
    if (r.status !== 200) throw new Error(`events read failed: ${r.status}`);
    out.push(...(r.body.items as LogEvent[]));
    if (!r.body.hasMore) return out;
  }
}

/**
 * Ends what is still going (cancels acked are recorded like the others, open retry offers are
 * declined), then waits until no session has an active run or an open question and every log
 * and every tab has stopped moving. Returns a finding when that does not happen in time.
 */
export async function quiesce(
  sessions: StressSession[],
  tabs: StressTab[],
  driver: StressDriver,
  timeoutMs: number,
): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  let stableSince = 0;
  let lastSeqs = '';
  while (Date.now() < deadline) {
    let busy = false;
    for (const s of sessions) {
      const state = (await s.http.get(`/sessions/${s.id}`, s.token)).body.state;
      if (state.run && ['running', 'awaiting_input'].includes(state.run.status)) {
        busy = true;
        const r = await s.http.post(`/sessions/${s.id}/cancel`, {}, s.token);
        if (r.status === 202) driver.cancelled(s.id, r.body.runId as string);
      } else if (state.pendingInteraction) {
        busy = true;
        const id = state.pendingInteraction.id as string;
        const response =
          state.pendingInteraction.kind === 'retry' ? { retry: false } : { approved: false };
        await s.http.post(`/sessions/${s.id}/interactions/${id}`, { response }, s.token);
      }
    }
    const ends = await Promise.all(sessions.map(async (s) => (await readLog(s)).length));
    const seqs = JSON.stringify(ends);
    const caughtUp = tabs.every(
      (t) =>
        t.joinedAfter < 0 || t.lastSeen >= ends[sessions.findIndex((s) => s.id === t.sessionId)],
    );
    if (!busy && caughtUp && seqs === lastSeqs) {
      if (stableSince && Date.now() - stableSince > 1_000) return undefined;
      stableSince ||= Date.now();
    } else stableSince = 0;
    lastSeqs = seqs;
    await new Promise((r) => setTimeout(r, 250));
  }
  return `[not-quiet] after ${timeoutMs} ms: a run or question did not end`;
}

export async function checkAll(
  sessions: StressSession[],
  tabs: StressTab[],
  driver: StressDriver,
): Promise<string[]> {
  const problems = [...driver.findings];
  for (const t of tabs.filter((x) => x.disconnectedBecause))
    problems.push(`[disconnected] ${t.label}: ${t.disconnectedBecause}`);
  for (const s of sessions) {
    const log = await readLog(s);
    if (process.env.STRESS_DUMP)
      process.stderr.write(
        `\n=== ${s.id}\n` +
          log
            .map(
              (e) =>
                `${e.seq} ${e.type} ${e.runId?.slice(0, 8) ?? ''} ${JSON.stringify(e.data).slice(0, 80)}`,
            )
            .join('\n'),
      );
    problems.push(
      ...checkSessionLog(
        s.id,
        log,
        driver.ackedCancels.get(s.id) ?? new Set(),
        driver.ackedRuns.get(s.id) ?? new Set(),
      ),
    );
    for (const t of tabs.filter((x) => x.sessionId === s.id && x.joinedAfter >= 0))
      problems.push(...checkSocketStream(t.label, log, t.joinedAfter, t.live));
  }
  return problems;
}
