import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ProbeSample } from './heap-probe.js';

/** The repository root (this file runs from dist/bench/). */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DIST_BENCH = fileURLToPath(new URL('./', import.meta.url));
const MAIN = join(ROOT, 'dist', 'src', 'main.js');
const PROBE = pathToFileURL(join(DIST_BENCH, 'heap-probe.js')).href;
const OUTPUT_KEEP = 64 * 1024;

export interface ServerChild {
  name: string;
  baseUrl: string;
  pid: number;
  /** Memory after a full GC and CPU time so far, read from the process itself. */
  probe(): Promise<ProbeSample>;
  /** Sends an IPC message and resolves with the first reply of `replyKind`. */
  request(message: object, replyKind: string, timeoutMs?: number): Promise<unknown>;
  output(): string;
  /** SIGTERM, then waits for the exit (a CPU profile is written on the way out). */
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

/**
 * Runs a Node script as its own process with the probe preloaded, and waits for the line
 * `listening on http://host:port` (the service's own start-up line; the bare server prints the
 * same). `profileDir` adds --cpu-prof there.
 */
function startNodeServer(
  name: string,
  script: string,
  env: Record<string, string>,
  opts: { profileDir?: string; timeoutMs?: number } = {},
): Promise<ServerChild> {
  const args = ['--expose-gc', '--import', PROBE];
  if (opts.profileDir) args.push('--cpu-prof', `--cpu-prof-dir=${opts.profileDir}`);
  const proc = spawn(process.execPath, [...args, script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let out = '';
  const keep = (chunk: Buffer): void => {
    out += chunk.toString();
    if (out.length > OUTPUT_KEEP * 2) out = out.slice(-OUTPUT_KEEP);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (c) => resolve(c)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${name} did not start:\n${out}`));
    }, opts.timeoutMs ?? 60_000);
    const onData = (): void => {
      const m = /listening on http:\/\/[\d.]+:(\d+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      proc.stdout?.off('data', onData);
      proc.stderr?.off('data', onData);
      resolve(child(name, proc, `http://127.0.0.1:${m[1]}`, () => out, exited));
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before listening:\n${out}`));
    });
  });
}

function child(
  name: string,
  proc: ChildProcess,
  baseUrl: string,
  output: () => string,
  exited: Promise<number | null>,
): ServerChild {
  const request = (message: object, replyKind: string, timeoutMs = 300_000): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name}: no ${replyKind}`)), timeoutMs);
      const onMessage = (m: unknown): void => {
        if ((m as { kind?: string }).kind !== replyKind) return;
        clearTimeout(timer);
        proc.off('message', onMessage);
        resolve(m);
      };
      proc.on('message', onMessage);
      proc.send(message);
    });
  return {
    name,
    baseUrl,
    pid: proc.pid ?? 0,
    output,
    probe: () => request({ kind: 'probe' }, 'probe', 30_000) as Promise<ProbeSample>,
    request,
    stop: async () => {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      const killer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** The built service, dist/src/main.js. */
export function startService(
  name: string,
  env: Record<string, string>,
  opts: { profileDir?: string } = {},
): Promise<ServerChild> {
  return startNodeServer(name, MAIN, env, opts);
}

/** The bare Socket.IO server (bench/bare-server.ts, built). */
export function startBare(opts: { profileDir?: string } = {}): Promise<ServerChild> {
  return startNodeServer('bare', join(DIST_BENCH, 'bare-server.js'), {}, opts);
}

/** A throwaway PostgreSQL 15 cluster with production durability (fsync on). */
export async function startPgCluster(
  dir: string,
): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const script = join(ROOT, '.ci', 'pg-cluster.sh');
  const r = spawnSync('bash', [script, 'start', dir, String(port)], {
    env: { ...process.env, PG_FSYNC: 'on' },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`pg-cluster start failed: ${r.stderr}${r.stdout}`);
  return {
    url: r.stdout.trim(),
    stop: () => {
      spawnSync('bash', [script, 'stop', dir], { encoding: 'utf8' });
      return Promise.resolve();
    },
  };
}

/** A throwaway Redis on a free port, without persistence. */
export async function startRedis(): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const proc = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(true));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(false)));
    });
    if (up) break;
    if (Date.now() > deadline) throw new Error('redis-server did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    stop: async () => {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      await exited;
    },
  };
}
