import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { ClusterBus } from '../cluster/cluster-bus.js';
import { FaultPoints } from '../common/fault-points.js';
import type { InteractionOutcome } from '../contracts/events.js';
import { contextOf, markSpan } from '../observability/tracing.js';
import { InteractionHub } from './interaction-hub.js';

/**
 * Answers relayed from other nodes to the runs waiting here. Best effort (pub/sub may drop a
 * message): the interaction sweep re-reads resolved rows, so a lost message only delays a run.
 */
@Injectable()
export class ClusterAnswers implements OnModuleInit, OnModuleDestroy {
  private stop: (() => void) | undefined;

  constructor(
    @Inject(ClusterBus) private readonly cluster: ClusterBus,
    @Inject(InteractionHub) private readonly hub: InteractionHub,
    @Inject(FaultPoints) private readonly faults: FaultPoints,
  ) {}

  onModuleInit(): void {
    this.stop = this.cluster.on((m) => {
      if (m.kind !== 'answer') return;
      void Promise.resolve()
        .then(() => this.faults.hit('cluster.answer'))
        .then(
          () => {
            const answer = { outcome: m.outcome as InteractionOutcome, response: m.response };
            if (!this.hub.deliver(m.interactionId, answer)) return;
            // The run goes on in its own span; this marks, in the answer's trace, where it woke.
            markSpan('deliver_answer', {
              parent: contextOf(m.traceparent),
              attributes: { 'interaction.id': m.interactionId, 'interaction.outcome': m.outcome },
            });
          },
          () => undefined,
        );
    });
  }

  onModuleDestroy(): void {
    this.stop?.();
  }
}
