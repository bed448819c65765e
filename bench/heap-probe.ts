import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { writeHeapSnapshot } from 'node:v8';

/**
 * Preloaded into a benchmarked server process (`node --expose-gc --import heap-probe.js main.js`)
 * so the bench can read the process's own memory and CPU time over the IPC channel without any
 * endpoint in the service. Answers `{kind: 'probe'}` with a sample taken after a full collection,
 * `{kind: 'snapshot', path}` by writing a heap snapshot there (to see what a socket holds), and
 * `cpu-start` / `cpu-stop` (with a path) by profiling the CPU between the two.
 */
export interface ProbeSample {
  kind: 'probe';
  heapUsed: number;
  rss: number;
  external: number;
  cpuUserUs: number;
  cpuSystemUs: number;
}

const collect = (globalThis as { gc?: () => void }).gc;

// A CPU profile of one measured window only (--cpu-prof would cover start-up and set-up too).
let inspector: Session | undefined;

function startCpuProfile(): void {
  inspector = new Session();
  inspector.connect();
  inspector.post('Profiler.enable', () =>
    inspector?.post('Profiler.start', () => process.send?.({ kind: 'cpu-started' })),
  );
}

function stopCpuProfile(path: string): void {
  inspector?.post('Profiler.stop', (err, result) => {
    if (!err) writeFileSync(path, JSON.stringify(result.profile));
    inspector?.disconnect();
    inspector = undefined;
    process.send?.({ kind: 'cpu-stopped', path });
  });
}

if (process.send) {
  process.on('message', (m: { kind?: string; path?: string }) => {
    if (m?.kind === 'cpu-start') {
      startCpuProfile();
      return;
    }
    if (m?.kind === 'cpu-stop' && m.path) {
      stopCpuProfile(m.path);
      return;
    }
    if (m?.kind === 'snapshot' && m.path) {
      collect?.();
      process.send?.({ kind: 'snapshot', path: writeHeapSnapshot(m.path) });
      return;
    }
    if (m?.kind !== 'probe') return;
    // CPU first, so the collections below are not billed to the measured work.
    const cpu = process.cpuUsage();
    // Two passes: the first may only move objects to the old generation.
    collect?.();
    collect?.();
    const mem = process.memoryUsage();
    const sample: ProbeSample = {
      kind: 'probe',
      heapUsed: mem.heapUsed,
      rss: mem.rss,
      external: mem.external,
      cpuUserUs: cpu.user,
      cpuSystemUs: cpu.system,
    };
    process.send?.(sample);
  });
  // The probe must never keep a stopping server alive.
  process.channel?.unref();
}
