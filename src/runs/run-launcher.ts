import { Inject, Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { LiveRuns } from './live-runs.js';
import { RUN_EXECUTOR, type RunExecutor } from './run-executor.js';
import type { RunSpec } from './run-spec.js';

/**
 * Executes runs whose rows are committed, through the executor the agent module provides
 * (RUN_EXECUTOR), and hands them to LiveRuns. The executor is looked up on first use, not
 * injected: it is built from the engine's own services (the lifecycle starts queued intents
 * through this launcher), so injecting it would make a cycle; the engine's folder still needs
 * nothing of the agent's.
 */
@Injectable()
export class RunLauncher {
  private executor: RunExecutor | undefined;

  constructor(
    @Inject(ModuleRef) private readonly refs: ModuleRef,
    @Inject(LiveRuns) private readonly live: LiveRuns,
  ) {}

  /** Whether this node still starts runs (not once it is shutting down). */
  get accepting(): boolean {
    return this.live.accepting;
  }

  /** This node's id, written into the runs it starts. */
  get nodeId(): string {
    return this.live.nodeId;
  }

  /**
   * Refused while shutting down: the row is then left to the takeover sweep, which interrupts
   * it and offers a retry.
   */
  launch(spec: RunSpec): boolean {
    if (!this.live.accepting) return false;
    this.executor ??= this.refs.get<RunExecutor>(RUN_EXECUTOR, { strict: false });
    this.live.start(this.executor.create(spec));
    return true;
  }
}
