import type { IncomingMessage } from 'node:http';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { NodeSDK } from '@opentelemetry/sdk-node';

/**
 * The OpenTelemetry Node SDK, traces only. main.ts imports this file (dynamically, so none of
 * the SDK is loaded otherwise) when OTEL_EXPORTER_OTLP_ENDPOINT is set, and starts it before the
 * application's modules load, so the HTTP instrumentation is in place when Nest's HTTP server
 * is made. Everything else comes from the standard OTEL_* variables: the exporter
 * (OTEL_TRACES_EXPORTER, default otlp), its protocol (OTEL_EXPORTER_OTLP_PROTOCOL, http/protobuf
 * or http/json), headers, the sampler, the batch delays, the resource.
 */
const REDACTED_QUERY_PARAMS = ['ticket', 'sig', 'Signature', 'AWSAccessKeyId', 'X-Goog-Signature'];

export interface Telemetry {
  /**
   * Exports the spans still buffered; called at shutdown. Resolves within SHUTDOWN_EXPORT_MS
   * whatever the endpoint does, so that an unreachable collector cannot hold the exit.
   */
  shutdown(): Promise<void>;
}

const SHUTDOWN_EXPORT_MS = 3000;

/**
 * Requests that are not spans of their own: Socket.IO's transport (each command gets a span of
 * its own, see ChatGateway) and the probes and scrapes, which would drown the traces that matter.
 */
const UNTRACED = /^\/(socket\.io\/|health(\/|$|\?)|metrics($|\?))/;

export function startTelemetry(env: NodeJS.ProcessEnv): Telemetry {
  const sdk = new NodeSDK({
    // OTEL_SERVICE_NAME (or service.name in OTEL_RESOURCE_ATTRIBUTES) wins when given.
    ...(env.OTEL_SERVICE_NAME || env.OTEL_RESOURCE_ATTRIBUTES?.includes('service.name=')
      ? {}
      : { serviceName: 'hitl-agent-backend' }),
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req: IncomingMessage) => UNTRACED.test(req.url ?? ''),
        // An SSE stream ticket is a credential: kept out of `url.query`, with the usual ones.
        redactedQueryParamsServer: REDACTED_QUERY_PARAMS,
        // Outgoing requests are webhooks to third parties: no span, and no traceparent of ours.
        disableOutgoingRequestInstrumentation: true,
      }),
    ],
    // Traces only: metrics are Prometheus' (GET /metrics), logs are pino's on stdout.
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  return {
    shutdown: () =>
      Promise.race([
        sdk.shutdown().catch(() => undefined),
        new Promise<void>((resolve) => setTimeout(resolve, SHUTDOWN_EXPORT_MS).unref()),
      ]),
  };
}
