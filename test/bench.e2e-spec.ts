import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIST, runNode } from './support/server-process.js';
import { serviceUrl } from './support/services.js';

const BENCH = join(DIST, 'bench', 'run.js');

/**
 * The benchmark's machinery with tiny numbers (bench:quick's code path): the built service as a
 * process on PostgreSQL and embedded, the bare server, two nodes on Redis, the single-client
 * measurements and the log write rate. Nothing about speed is asserted, only that it runs and
 * that every client saw every seq once, in order.
 */
describe('bench:quick smoke run', () => {
  let out: string;
  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('runs every part with tiny numbers and keeps seq integrity on every client', async () => {
    const args = [
      '--quick',
      ...['--clients', '8', '--sessions', '2', '--count', '20'],
      ...['--idle-sockets', '20', '--replay-events', '300', '--replay-rounds', '1'],
      ...['--first-event-sends', '2', '--history-sessions', '2', '--history-events', '10'],
      ...['--timeout-ms', '30000', '--out', out],
    ];
    // The run's shared services (`npm run bench:quick` itself starts its own, in .ci/run).
    args.push('--database-url', serviceUrl('TEST_DATABASE_URL'));
    args.push('--redis-url', serviceUrl('TEST_REDIS_URL'));

    const r = await runNode(BENCH, args, {});
    const report = JSON.parse(readFileSync(join(out, 'quick-latest.json'), 'utf8')) as {
      ok: boolean;
      errors: string[];
      fanout: Record<string, { delivered: number; integrity: { ok: boolean; clients: number } }>;
      cluster?: { integrity: { ok: boolean; clients: number } };
      clusterAffine?: { integrity: { ok: boolean; clients: number } };
      replay: Record<string, { contiguous: boolean; events: number }>;
    };

    expect(report.errors).toEqual([]);
    expect(r.code).toBe(0);
    expect(Object.keys(report.fanout).sort()).toEqual(['bare', 'embedded', 'postgres']);
    for (const f of Object.values(report.fanout)) {
      expect(f.integrity).toMatchObject({ ok: true, clients: 8 });
      expect(f.delivered).toBeGreaterThan(8 * 20);
    }
    expect(report.cluster?.integrity).toMatchObject({ ok: true, clients: 8 });
    expect(report.clusterAffine?.integrity).toMatchObject({ ok: true, clients: 8 });
    for (const replay of Object.values(report.replay)) {
      expect(replay.contiguous).toBe(true);
      expect(replay.events).toBeGreaterThanOrEqual(300);
    }
    expect(r.output).toMatch(/\| events delivered per second \|/);
  }, 120_000);
});
