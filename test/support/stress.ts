import type { Http } from './http.js';
import { ask } from './socket.js';
import type { StressTab } from './stress-tab.js';

export { StressTab } from './stress-tab.js';

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

export interface StressSession {
  id: string;
  token: string;
  http: Http;
}

/** A valid answer to a form: a datetime an hour ahead for a time, 'stress' for the rest. */
export function formAnswer(fields: { name: string; type: string }[]): unknown {
  const soon = new Date(Date.now() + 3_600_000).toISOString();
  return {
    values: Object.fromEntries(
      fields.map((f) => [f.name, f.name === 'time' || f.type === 'datetime' ? soon : 'stress']),
    ),
  };
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
  /** Sessions the workers leave alone for a moment (a restart is about to park their run). */
  private readonly held = new Set<string>();
  /** Actions whose node stopped while they were on the way (an error or no ack is fine then). */
  lostToRestarts = 0;

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
      const joined = this.tabs.filter(
        (t) => t.joinedAfter >= 0 && !t.moving && !this.held.has(t.sessionId),
      );
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

  hold(sessionIds: string[]): void {
    for (const id of sessionIds) this.held.add(id);
  }

  release(): void {
    this.held.clear();
  }

  cancelled(sessionId: string, runId: string): void {
    const set = this.ackedCancels.get(sessionId) ?? new Set<string>();
    set.add(runId);
    this.ackedCancels.set(sessionId, set);
  }

  started(sessionId: string, runId: string): void {
    const set = this.ackedRuns.get(sessionId) ?? new Set<string>();
    set.add(runId);
    this.ackedRuns.set(sessionId, set);
  }

  private answer(q: { kind: string; fields: any[] }): unknown {
    if (q.kind === 'confirm') return { approved: this.rnd() < 0.5 };
    if (q.kind === 'retry') return { retry: this.rnd() < 0.6 };
    return formAnswer(q.fields);
  }

  private async call(tab: StressTab, event: string, payload: object): Promise<any> {
    // Closed before this action was sent: however it races, its answer is SESSION_CLOSED.
    const closedBefore = this.closed.has(tab.sessionId);
    const generation = tab.generation;
    // Its node began to stop (or restarted) while the action was on the way.
    const cutOff = (): boolean => tab.moving || tab.generation !== generation;
    let ack: any;
    try {
      ack = await ask(tab.socket, event, payload, 15_000);
    } catch (err) {
      if (cutOff()) this.lostToRestarts += 1;
      else this.findings.push(`[no-ack] ${tab.label} ${event}: ${(err as Error).message}`);
      return undefined;
    }
    if (!ack.ok && cutOff()) {
      this.lostToRestarts += 1;
      return ack;
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
