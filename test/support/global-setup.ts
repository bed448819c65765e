import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Jest loads this file natively, outside its module mapping: it imports nothing of the project's
// TypeScript and starts the services with the same scripts as .ci/run.
const script = (name: string): string =>
  fileURLToPath(new URL(`../../.ci/${name}`, import.meta.url));
const PGBIN = process.env.PGBIN ?? '/usr/lib/postgresql/15/bin';

/** Set by globalSetup, run by globalTeardown (both run in Jest's main process). */
const STARTED = Symbol.for('hitl.test.stop-started-services');
type Stop = () => void;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/** Starts a throwaway service with `.ci/<name> start DIR PORT`; returns its URL. */
async function startService(name: string, stops: Stop[]): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'hitl-test-service-'));
  const port = String(await freePort());
  const url = execFileSync('bash', [script(name), 'start', dir, port])
    .toString()
    .trim();
  stops.push(() => execFileSync('bash', [script(name), 'stop', dir, port]));
  return url;
}

/**
 * Runs once before the suite, in Jest's main process; the workers inherit its environment. No
 * test is skipped for a missing service: without TEST_DATABASE_URL the run starts a throwaway
 * cluster from the machine's PostgreSQL 15, without TEST_REDIS_URL a throwaway redis-server
 * (`npm test` first installs missing packages, .ci/system-packages.sh), and a service it cannot
 * provide fails the run. In CI both URLs come from .ci/run.
 */
export default async function globalSetup(): Promise<void> {
  const stops: Stop[] = [];
  (globalThis as Record<symbol, Stop>)[STARTED] = () => stops.splice(0).forEach((s) => s());
  const needPg = !process.env.TEST_DATABASE_URL;
  const needRedis = !process.env.TEST_REDIS_URL;
  const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  // Checked before anything starts, and undone if a start fails: a failed setup has no teardown.
  const missing = [
    process.env.CI === 'true' && needPg && 'TEST_DATABASE_URL (.ci/run starts a cluster)',
    process.env.CI === 'true' && needRedis && 'TEST_REDIS_URL (.ci/run starts redis-server)',
    needPg &&
      !existsSync(join(PGBIN, 'initdb')) &&
      `PostgreSQL 15 in ${PGBIN} (apt: postgresql-15)`,
    needRedis && spawnSync('redis-server', ['--version']).status !== 0 && 'redis-server (apt)',
    !existsSync(chromium) && `Chromium at ${chromium} (apt: chromium, or set CHROMIUM_PATH)`,
  ].filter(Boolean);
  if (missing.length)
    throw new Error(
      `The tests need: ${missing.join('; ')}. \`npm test\` installs missing packages when ` +
        'run as root (.ci/system-packages.sh); see README "Tests".',
    );
  try {
    if (needPg) process.env.TEST_DATABASE_URL = await startService('pg-cluster.sh', stops);
    if (needRedis) process.env.TEST_REDIS_URL = await startService('redis.sh', stops);
  } catch (err) {
    stops.splice(0).forEach((s) => s());
    throw err;
  }
}
