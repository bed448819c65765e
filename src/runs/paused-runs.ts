import { Inject, Injectable, Logger } from '@nestjs/common';
import { FaultPoints } from '../common/fault-points.js';
import { PausedRunsStore } from './paused-runs.store.js';
import { RunLauncher } from './run-launcher.js';
import type { RunRow } from './runs.repository.js';
import type { PausePoint, RunSpec } from './run-spec.js';
import type { TranscriptMessage } from './transcript.js';

/** What a paused run's checkpoint holds: the transcript, where it paused, its usage so far. */
interface PausedCheckpoint {
  transcript: TranscriptMessage[];
  pausedAt: PausePoint;
  usage?: { promptTokens: number; completionTokens: number };
  round?: number;
}

/**
 * Pauses that outlive their process. A run waiting on a question is parked (held by no node)
 * when its node stops (RunExecution.shutdown) or is found dead (RunFencing's takeover); the
 * question stays open with its deadline, which any node's InteractionSweeper enforces. Once every
 * question of a parked run is answered (a person, or the deadline), the node that sees it first
 * adopts the run (one conditional UPDATE) and launches it again: same run, no new task_started,
 * replaying its checkpoint up to the question (RunSpec.resume) and going on from the answer.
 */
@Injectable()
export class PausedRuns {
  private readonly logger = new Logger(PausedRuns.name);

  constructor(
    @Inject(PausedRunsStore) private readonly store: PausedRunsStore,
    @Inject(RunLauncher) private readonly launcher: RunLauncher,
    @Inject(FaultPoints) private readonly faults: FaultPoints,
  ) {}

  /**
   * Lets go of a waiting run this node holds (shutdown), or of another node's that stopped
   * renewing it before `staleBefore` (takeover). False when the run is no longer waiting (it was
   * answered and goes on, or ended), or was not paused at a question it can replay to.
   */
  park(runId: string, holder: { nodeId?: string; staleBefore?: Date } = {}): Promise<boolean> {
    return this.store.park(runId, holder.nodeId ?? this.launcher.nodeId, holder.staleBefore);
  }

  /**
   * After a shutdown stopped a waiting run in the instant its answer moved it to `running`
   * (before it acted on it): waiting and parked again. False if it moved on or is not ours.
   */
  repark(runId: string): Promise<boolean> {
    return this.store.repark(runId, this.launcher.nodeId);
  }

  /** The node that holds the run (for a cancel that must not end a run another node holds). */
  get nodeId(): string {
    return this.launcher.nodeId;
  }

  /** Adopts the run if it is parked and answered, and launches it here; true when it did. */
  async adopt(runId: string): Promise<boolean> {
    if (!this.launcher.accepting) return false;
    await this.faults.hit('pause.adopting');
    const row = await this.store.adopt(runId, this.launcher.nodeId);
    if (!row) return false;
    this.logger.log(
      { runId, sessionId: row.session_id, userId: row.user_id },
      'adopted a paused run',
    );
    // Refused when this node began to stop since: parked again at once, for another node.
    if (this.launcher.launch(specOf(row))) return true;
    await this.store.park(runId, this.launcher.nodeId);
    return false;
  }

  /** Adopts every parked run that is ready (the sweep: answers whose hand-off was lost). */
  async adoptReady(): Promise<void> {
    for (const id of await this.store.ready(20)) {
      if (!this.launcher.accepting) return;
      await this.adopt(id);
    }
  }
}

function specOf(row: RunRow): RunSpec {
  const checkpoint = row.checkpoint as PausedCheckpoint;
  return {
    runId: row.id,
    intentId: row.intent_id,
    sessionId: row.session_id,
    userId: row.user_id,
    attempt: row.attempt,
    transcript: checkpoint.transcript,
    resume: checkpoint.pausedAt,
    ...(checkpoint.usage ? { usage: checkpoint.usage } : {}),
    ...(typeof checkpoint.round === 'number' ? { round: checkpoint.round } : {}),
  };
}
