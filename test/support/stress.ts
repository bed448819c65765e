import type { Http } from './http.js';
import type { LogEvent } from './log-invariants.js';
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
const IF_BUSY = ['reject', 'enqueue', 'interrupt', 'rollback'];
/** Errors an action may get by racing the others; anything else is a finding. */
const EXPECTED: Record<string, string[]> = {
  // QUEUE_FULL: an enqueue past QUEUE_MAX; CONFLICT: an edit whose parent is queued.
  'message:send': ['SESSION_BUSY', 'QUEUE_FULL', 'CONFLICT'],
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

/** Of actions in a session being closed, most go to open sessions; these few check SESSION_CLOSED. */
const CLOSED_SESSION_ACTIONS = 0.1;

/** Drives random actions on the tabs, records acked cancels and unexpected acks. */
export class StressDriver {
  readonly ackedCancels = new Map<string, Set<string>>();
  /** Sessions whose close was asked for: from then on any action in them may get SESSION_CLOSED. */
  readonly closing = new Set<string>();
  /** Sessions whose close was acked: an action sent after that gets SESSION_CLOSED, nothing else. */
  readonly closed = new Set<string>();
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

  /**
   * Closes each of `sessions` at a random moment of the first 85% of the time left, while the
   * workers go on (so a close meets runs, questions, retry offers and answers in flight).
   */
  async closeAtRandom(sessions: StressSession[], untilMs: number): Promise<void> {
    const left = untilMs - Date.now();
    const delays = sessions.map(() => (0.15 + 0.7 * this.rnd()) * left);
    await Promise.all(
      sessions.map(async (s, i) => {
        await new Promise((r) => setTimeout(r, delays[i]));
        this.closing.add(s.id);
        const r = await s.http.request('DELETE', `/sessions/${s.id}`, { token: s.token });
        if (r.status === 204) this.closed.add(s.id);
        else
          this.findings.push(
            `[unexpected-ack] close ${s.id}: ${r.status} ${JSON.stringify(r.body)}`,
          );
      }),
    );
  }

  private async worker(untilMs: number): Promise<void> {
    while (Date.now() < untilMs) {
      const joined = this.tabs.filter((t) => t.joinedAfter >= 0);
      const open = joined.filter((t) => !this.closing.has(t.sessionId));
      const tab = this.pick(open.length && this.rnd() >= CLOSED_SESSION_ACTIONS ? open : joined);
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
      // Any policy while busy; now and then an edit (a message following an earlier intent).
      const parent = this.rnd() < 0.2 ? this.pick(tab.intents()) : undefined;
      const ack = await this.call(tab, 'message:send', {
        sessionId,
        content,
        clientMessageId: `m${this.actions}`,
        ifBusy: this.pick(IF_BUSY),
        ...(parent ? { parentIntentId: parent } : {}),
      });
      if (ack?.ok && ack.runId) this.started(sessionId, ack.runId as string);
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
    // Closed before this action was sent: however it races, its answer is SESSION_CLOSED.
    const closedBefore = this.closed.has(tab.sessionId);
    let ack: any;
    try {
      ack = await ask(tab.socket, event, payload, 15_000);
    } catch (err) {
      this.findings.push(`[no-ack] ${tab.label} ${event}: ${(err as Error).message}`);
      return undefined;
    }
    const closed = ack.error?.code === 'SESSION_CLOSED' && this.closing.has(tab.sessionId);
    if (closedBefore && !closed)
      this.findings.push(
        `[not-session-closed] ${tab.label} ${event} ${JSON.stringify(payload)} after the close: ${JSON.stringify(ack)}`,
      );
    else if (!ack.ok && !closed && !EXPECTED[event]?.includes(ack.error?.code))
      this.findings.push(
        `[unexpected-ack] ${tab.label} ${event} ${JSON.stringify(payload)}: ${JSON.stringify(ack.error)}`,
      );
    return ack;
  }
}
