import 'reflect-metadata';
import type { Server } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import { createApp, listen } from './app.factory.js';
import { trackHttpConnections } from './common/http-drain.js';
import { ConfigError, loadConfig } from './config/config.loader.js';
import { wantsPrettyLogs } from './observability/pretty-logs.js';

async function bootstrap(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(err.message + '\n');
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  const app = await createApp(config);
  installShutdown(app, config.http.shutdownTimeoutMs);
  const port = await listen(app, config.http.port, config.http.host);
  const msg = `listening on http://${config.http.host}:${port}`;
  process.stdout.write(
    wantsPrettyLogs(config, process.stdout.isTTY === true)
      ? `${msg}: open http://localhost:${port} in a browser\n`
      : JSON.stringify({ level: 30, time: Date.now(), msg }) + '\n',
  );
}

/**
 * SIGTERM/SIGINT: stop accepting, let in-flight requests finish, run every shutdown hook (the
 * database closes last), then exit 0. A watchdog makes sure the process is gone within the limit.
 */
function installShutdown(app: INestApplication, timeoutMs: number): void {
  const connections = trackHttpConnections(app.getHttpServer() as Server);
  let closing = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (closing) return;
    closing = true;
    setTimeout(() => {
      process.stderr.write(`shutdown took longer than ${timeoutMs} ms; exiting\n`);
      process.exit(1);
    }, timeoutMs).unref();
    connections.drain();
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`shutdown after ${signal} failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

bootstrap().catch((err: unknown) => {
  process.stderr.write(`startup failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
