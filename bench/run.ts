import 'reflect-metadata';
import { benchHistoryAppend } from './history-append.bench.js';

/**
 * `npm run bench`: every benchmark, each comparing our path with its raw baseline in the same run.
 * BENCH_DATABASE_URL adds a run against that PostgreSQL (each run makes its own tables there:
 * point it at a scratch database).
 */
async function main(): Promise<void> {
  const targets: (string | undefined)[] = [undefined];
  if (process.env.BENCH_DATABASE_URL) targets.push(process.env.BENCH_DATABASE_URL);
  for (const url of targets) {
    const r = await benchHistoryAppend({ url, sessions: 50, eventsPerSession: 200 });
    process.stdout.write(
      `history append [${r.engine}] ${r.events} events from 50 concurrent writers: ` +
        `log ${r.logRowsPerS.toFixed(0)} rows/s (mean group commit ${r.meanFlush.toFixed(1)} events) vs ` +
        `raw multi-row INSERT ${r.rawRowsPerS.toFixed(0)} rows/s → ratio ${r.ratio.toFixed(2)}\n`,
    );
  }
}

main().catch((err: unknown) => {
  process.stderr.write(String(err) + '\n');
  process.exit(1);
});
