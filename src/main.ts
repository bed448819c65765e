import 'reflect-metadata';
import type { Server } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import { trackHttpConnections } from './common/http-drain.js';
import type { AppConfig } from './config/app-config.js';
import { ConfigError, loadConfig } from './config/config.loader.js';
import type { Telemetry } from './observability/telemetry-sdk.js';
import { wantsPrettyLogs } from './observability/pretty-logs.js';

/**
 * OpenTelemetry only when configured: the SDK is imported here, and started before the
 * application's modules are imported (below), so that its HTTP instrumentation sees Nest's
 * server being made. Unset, no module of the SDK is loaded at all.
 */
async function startTelemetry(config: AppConfig): Promise<Telemetry | undefined> {
  if (!config.tracing) return undefined;
  const sdk = await import('./observability/telemetry-sdk.js');
  return sdk.startTelemetry(process.env);
}

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
  const telemetry = await startTelemetry(config);
  const { createApp, listen } = await import('./app.factory.js');
  const app = await createApp(config);
  installShutdown(app, config.http.shutdownTimeoutMs, telemetry);
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
 * database closes last), export the spans still buffered, then exit 0. A watchdog makes sure
 * the process is gone within the limit.
 */
function installShutdown(
  app: INestApplication,
  timeoutMs: number,
  telemetry: Telemetry | undefined,
): void {
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
    app
      .close()
      // The spans of the last requests and runs are still buffered until exported.
      .then(() => telemetry?.shutdown())
      .then(
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
