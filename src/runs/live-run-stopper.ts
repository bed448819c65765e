import { Inject, Injectable } from '@nestjs/common';
import { ClusterBus } from '../cluster/cluster-bus.js';
import { RunControlService } from './run-control.service.js';

/**
 * Stops a session's execution without writing, on this node and (over the cluster bus) on any
 * other: for after a transaction that ended the session's run state, so every write of that
 * execution would be refused anyway.
 */
@Injectable()
export class LiveRunStopper {
  constructor(
    @Inject(RunControlService) private readonly runControl: RunControlService,
    @Inject(ClusterBus) private readonly cluster: ClusterBus,
  ) {}

  /** Every execution of the session's runs, or only of `runId`, on any node. */
  stopEverywhere(sessionId: string, runId?: string): void {
    this.runControl.abandonLive(sessionId, runId);
    this.cluster.publish({ kind: 'abandon', sessionId, ...(runId ? { runId } : {}) });
  }
}
