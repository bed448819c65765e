import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';

/**
 * Named places in the run lifecycle where a test can pause the code or make it fail, to replay a
 * race deterministically instead of hoping for a timing. docs/architecture.md lists them.
 */
export type FaultPoint =
  /** send/retry: the run row is committed, the execution is not launched yet. */
  | 'run.before-launch'
  /** A run's first text chunk: intent_recognition is completed, response_generation not started. */
  | 'run.reply-started'
  /** A run's text chunk is buffered, not written yet (pause = the execution holds unwritten text). */
  | 'run.streamed'
  /** Inside a run's closing transaction, after the state change, before its events. */
  | 'run.closing'
  /** A run's execution after the transaction that ended it committed, before it lets go. */
  | 'run.closed'
  /** A node's heartbeat tick, before it renews its runs (throw = the database is unreachable). */
  | 'node.heartbeat'
  /** A cluster `answer` message arrived (throw = it was lost). */
  | 'cluster.answer'
  /** A cluster `cancel` request arrived at a node (throw = it was lost). */
  | 'cluster.cancel'
  /** A node got another node's word to stop an execution without writing (throw = it is lost). */
  | 'cluster.abandon'
  /** A cluster `cancelled` reply arrived at the node that asked (throw = it was lost). */
  | 'cluster.cancelled'
  /** An `inbox` event's owner and kind were read, before it is emitted (pause = it is late). */
  | 'inbox.sending'
  /** A session channel's subscribe is about to go to Redis (pause = the subscription is late). */
  | 'cluster.subscribe'
  /** Redis reached for the first time, before the pub/sub mode is asked (pause = still unknown). */
  | 'cluster.mode'
  /** The shared cluster channel's SUBSCRIBE is about to go to Redis (throw = it failed). */
  | 'cluster.shared-subscribe'
  /** A close was asked for, before it reads or locks anything (pause = it has not begun). */
  | 'session.close-requested'
  /** A close changed the session's status, in its transaction, before it ends the run. */
  | 'session.closing'
  /** Idle expiry claimed a session, before its transaction cancels the run. */
  | 'expiry.claimed'
  /** A session create counted the user's active sessions (user row locked), before its insert. */
  | 'session.counted'
  /** A join checked the session's owner, before it puts the socket in the room. */
  | 'join.owned'
  /** A send holds the session row lock, before its busy check. */
  | 'send.locked'
  /** A session is free and has a queued intent, in the freeing transaction, before it starts it. */
  | 'queue.starting'
  /** A cancel found no run executing here or on another node, before it ends one as stored. */
  | 'cancel.not-live'
  /** An answer found its session active, before it reads the interaction. */
  | 'answer.checked'
  /** An interaction was resolved, inside its transaction, before interaction_resolved is appended. */
  | 'interaction.resolved'
  /** A node is about to adopt a parked run (its question answered), before the UPDATE. */
  | 'pause.adopting'
  /** A tool call read the session's standing grant of its tool, before it claims the call. */
  | 'tool.grant-read'
  /** A tool's side effect is done, its result not recorded or checkpointed yet. */
  | 'tool.executed'
  /** A tool call's result is recorded in the tool-call ledger, its round not checkpointed yet. */
  | 'tool.recorded'
  /** An SSE request's ticket and session passed their checks, before the ticket is used. */
  | 'stream.ticket-checked'
  /** An SSE request passed its checks (database reads), before its stream starts. */
  | 'stream.authorized'
  /** An SSE stream read its session's status, before it replays the log. */
  | 'stream.status-read'
  /** A due reminder was read as a candidate, before its transaction locks the session. */
  | 'reminder.due'
  /** A due reminder was claimed (status fired), in its transaction, before reminder_due. */
  | 'reminder.claimed'
  /** A webhook delivery was claimed for an attempt, before it is signed and sent. */
  | 'webhook.claimed';

type Handler = () => Promise<void> | void;

/**
 * Inert unless a test arms a point: `hit` is a map lookup on an empty map. Tests reach it through
 * the Nest app (`app.get(FaultPoints)`); a process started by a test can be told to die at a point
 * with FAULT_CRASH_AT=<point>, honoured only when NODE_ENV=test.
 */
@Injectable()
export class FaultPoints {
  private readonly handlers = new Map<FaultPoint, Handler>();
  private readonly enabled: boolean;

  constructor(@Inject(APP_CONFIG) config: Pick<AppConfig, 'env'>) {
    this.enabled = config.env === 'test';
    const crashAt = process.env.FAULT_CRASH_AT as FaultPoint | undefined;
    if (this.enabled && crashAt) this.arm(crashAt, () => void process.kill(process.pid, 'SIGKILL'));
  }

  hit(point: FaultPoint): Promise<void> | void {
    if (this.handlers.size === 0) return;
    return this.handlers.get(point)?.();
  }

  arm(point: FaultPoint, handler: Handler): void {
    if (!this.enabled) throw new Error('Fault points are for tests (NODE_ENV=test) only');
    this.handlers.set(point, handler);
  }

  /** Holds every caller of `point` until `release()`; `reached` resolves at the first one. */
  pause(point: FaultPoint): { reached: Promise<void>; release: () => void } {
    let release!: () => void;
    let reach!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const reached = new Promise<void>((r) => (reach = r));
    this.arm(point, () => {
      reach();
      return gate;
    });
    return {
      reached,
      release: () => {
        this.disarm(point);
        release();
      },
    };
  }

  disarm(point?: FaultPoint): void {
    if (point) this.handlers.delete(point);
    else this.handlers.clear();
  }
}
