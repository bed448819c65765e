import type { ClusterBus, ClusterMessage } from '../cluster/cluster-bus.js';
import { FaultPoints } from '../common/fault-points.js';
import type { RunLifecycle } from './run-lifecycle.service.js';
import type { RunsStore } from './runs.store.js';
import { LiveRuns } from './live-runs.js';
import { RunControlService } from './run-control.service.js';

/**
 * The canceller's side of a remote cancel, with the cluster bus played in memory: `answer` gets
 * each cancel this node publishes and returns the replies other nodes send, in order.
 */
function harness(answer: (m: Extract<ClusterMessage, { kind: 'cancel' }>) => ClusterMessage[]) {
  let handler: ((m: ClusterMessage) => void) | undefined;
  const asked: string[] = [];
  const state = { active: 'r1' as string | undefined };
  const bus = {
    enabled: true,
    on: (h: (m: ClusterMessage) => void) => {
      handler = h;
      return () => undefined;
    },
    publish: (m: ClusterMessage) => {
      if (m.kind !== 'cancel') return;
      asked.push(m.runId ?? '');
      for (const reply of answer(m)) setImmediate(() => handler?.(reply));
    },
  } as unknown as ClusterBus;
  const store = {
    activeRun: () => Promise.resolve(state.active && { id: state.active, node_id: 'other' }),
    cancelReason: () => Promise.resolve(undefined),
  } as unknown as RunsStore;
  const lifecycle = {
    cancelSession: () => Promise.resolve(undefined),
  } as unknown as RunLifecycle;
  const control = new RunControlService(
    lifecycle,
    store,
    bus,
    new FaultPoints({ env: 'test' }),
    new LiveRuns(bus, new FaultPoints({ env: 'test' })),
  );
  control.onModuleInit();
  return { control, asked, state };
}

describe('RunControlService: whose reply a remote cancel counts', () => {
  it('ignores replies about other runs and takes the reply about the run it asked about', async () => {
    const { control, asked } = harness((m) => [
      { kind: 'cancelled', requestId: m.requestId, runId: 'r0', won: false },
      { kind: 'cancelled', requestId: 'another-request', runId: 'r1', won: false },
      { kind: 'cancelled', requestId: m.requestId, runId: 'r1', won: true },
    ]);
    expect(await control.cancelActive('s', 'user')).toBe('r1');
    expect(asked).toEqual(['r1']);
  });

  it('a not-executing reply while the run is still active is no answer: it waits for the owner', async () => {
    const { control, asked } = harness((m) => [
      { kind: 'not-executing', requestId: m.requestId, runId: 'r1', executing: 'r0' },
      { kind: 'cancelled', requestId: m.requestId, runId: 'r1', won: true },
    ]);
    expect(await control.cancelActive('s', 'user')).toBe('r1');
    expect(asked).toEqual(['r1']);
  });

  it('a not-executing reply once the active run changed: the new run is asked at once', async () => {
    const h = harness((m) => {
      if (m.runId === 'r1') {
        h.state.active = 'r2';
        return [{ kind: 'not-executing', requestId: m.requestId, runId: 'r1', executing: 'r2' }];
      }
      return [{ kind: 'cancelled', requestId: m.requestId, runId: 'r2', won: true }];
    });
    expect(await h.control.cancelActive('s', 'user')).toBe('r2');
    expect(h.asked).toEqual(['r1', 'r2']);
  });
});
