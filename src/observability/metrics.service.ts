import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Prometheus metrics of this process. A registry per app instance (not prom-client's global one),
 * so two instances in one process do not collide.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly connectedSockets = new Gauge({
    name: 'hitl_connected_sockets',
    help: 'Socket.IO connections open on this node',
    registers: [this.registry],
  });
  readonly joins = new Counter({
    name: 'hitl_session_joins_total',
    help: 'session:join calls that succeeded',
    registers: [this.registry],
  });
  readonly eventsAppended = new Counter({
    name: 'hitl_events_appended_total',
    help: 'Events written to session logs by this node',
    labelNames: ['type'],
    registers: [this.registry],
  });
  readonly eventsEmitted = new Counter({
    name: 'hitl_events_emitted_total',
    help: 'Events emitted to session rooms by this node',
    labelNames: ['type'],
    registers: [this.registry],
  });
  readonly flushSize = new Histogram({
    name: 'hitl_log_flush_events',
    help: 'Events per group commit of the event log',
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
    registers: [this.registry],
  });
  readonly flushSeconds = new Histogram({
    name: 'hitl_log_flush_seconds',
    help: 'Duration of one group commit of the event log',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });
  readonly runDuration = new Histogram({
    name: 'hitl_run_duration_seconds',
    help: 'Run duration from start to its closing event',
    labelNames: ['outcome'],
    buckets: [1, 5, 10, 30, 60, 120, 300],
    registers: [this.registry],
  });
  readonly runsByOutcome = new Counter({
    name: 'hitl_runs_total',
    help: 'Runs ended, by outcome',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  readonly interactionsByOutcome = new Counter({
    name: 'hitl_interactions_resolved_total',
    help: 'Interactions resolved, by kind and outcome',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  readonly rateLimited = new Counter({
    name: 'hitl_rate_limit_rejections_total',
    help: 'Messages and session creations refused with RATE_LIMITED, by kind',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  readonly rateLimitFallbacks = new Counter({
    name: 'hitl_rate_limit_fallback_total',
    help: "Rate-limit checks counted in this node's memory because the shared (Redis) storage failed",
    registers: [this.registry],
  });
  readonly authRateLimited = new Counter({
    name: 'hitl_auth_rate_limit_rejections_total',
    help: 'Auth attempts and socket handshakes refused with RATE_LIMITED',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  readonly slowConsumerDisconnects = new Counter({
    name: 'hitl_slow_consumer_disconnects_total',
    help: 'Sockets disconnected because their outgoing buffer exceeded SOCKET_MAX_BUFFER_BYTES',
    registers: [this.registry],
  });
  readonly historyWriteRetries = new Counter({
    name: 'hitl_history_write_retries_total',
    help: 'Event-log writes retried because the database was unreachable',
    registers: [this.registry],
  });
  readonly retentionDeleted = new Counter({
    name: 'hitl_retention_deleted_total',
    help: 'Rows deleted by the retention job, by cleanup',
    labelNames: ['cleanup'],
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'hitl_http_request_duration_seconds',
    help: 'HTTP request duration',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
