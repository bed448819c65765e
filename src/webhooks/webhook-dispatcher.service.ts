import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { PeriodicJob } from '../common/periodic-job.js';
import { FaultPoints } from '../common/fault-points.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { HistoryRepository } from '../history/history.repository.js';
import { sendWebhook, type SendResult } from './webhook-sender.js';
import { WebhookSecrets } from './webhook-secrets.js';
import { type ClaimedDelivery, WebhooksRepository } from './webhooks.repository.js';

/** Deliveries claimed (and sent concurrently) per round. */
const BATCH = 20;
/** How long after its timeout a claimed attempt's row stays out of other nodes' reach. */
const LEASE_MARGIN_MS = 5000;
/** The longest wait between two attempts, however many there are. */
const MAX_WAIT_MS = 6 * 3600_000;
/** The dispatcher looks for due deliveries at least this often. */
const MAX_POLL_MS = 1000;

/**
 * Sends webhook deliveries, on every node. The database is the queue: each round claims due rows
 * (SKIP LOCKED, see WebhooksRepository.claimDue), so any number of nodes share the work and each
 * attempt is made by one of them. A delivery stored by this node is sent at once (the event log
 * says so after its commit); those of other nodes, and retries, by the next poll. A failed
 * attempt waits WEBHOOK_RETRY_BASE_MS, then twice that, and so on, until WEBHOOK_MAX_ATTEMPTS.
 */
@Injectable()
export class WebhookDispatcherService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(WebhookDispatcherService.name);
  private readonly job: PeriodicJob<void>;
  private readonly secrets: WebhookSecrets;
  private readonly stopping = new AbortController();
  /** Set when a delivery was stored while a round ran: the round goes once more. */
  private again = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(WebhooksRepository) private readonly repo: WebhooksRepository,
    @Inject(HistoryRepository) private readonly history: HistoryRepository,
    @Inject(FaultPoints) private readonly faults: FaultPoints,
  ) {
    this.secrets = new WebhookSecrets(config.jwt.secret);
    this.job = new PeriodicJob({
      name: 'webhook dispatch',
      everyMs: Math.min(MAX_POLL_MS, config.webhooks.retryBaseMs),
      run: () => this.dispatchDue(),
      logger: this.logger,
    });
  }

  onApplicationBootstrap(): void {
    this.history.onDeliveries = () => this.kick();
    this.job.start({ now: true });
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.history.onDeliveries = undefined;
    this.stopping.abort();
    await this.job.stop();
  }

  private kick(): void {
    this.again = true;
    this.job
      .runOnce()
      .catch((err: unknown) => this.logger.warn({ err }, 'webhook dispatch failed'));
  }

  /** Claims and sends due deliveries until none is left (or the node stops). */
  async dispatchDue(): Promise<void> {
    for (;;) {
      this.again = false;
      const lease = this.config.webhooks.timeoutMs + LEASE_MARGIN_MS;
      const claimed = await this.repo.claimDue(BATCH, lease);
      await Promise.all(claimed.map((d) => this.attempt(d)));
      if (this.job.stopping || (claimed.length < BATCH && !this.again)) return;
    }
  }

  private async attempt(d: ClaimedDelivery): Promise<void> {
    await this.faults.hit('webhook.claimed');
    const { timeoutMs, retryBaseMs, maxAttempts, allowPrivate } = this.config.webhooks;
    let result: SendResult;
    try {
      result = await sendWebhook({
        url: d.url,
        secret: this.secrets.decrypt(d.secret_enc),
        id: d.id,
        body: JSON.stringify(d.payload),
        timeoutMs,
        allowPrivate,
        signal: this.stopping.signal,
      });
    } catch (err) {
      // The secret cannot be read (JWT_SECRET changed since the endpoint was registered).
      result = { ok: false, error: `cannot sign: ${(err as Error).message}` };
    }
    const retryInMs =
      d.attempts >= maxAttempts
        ? undefined
        : Math.min(MAX_WAIT_MS, retryBaseMs * 2 ** (d.attempts - 1));
    await this.repo.recordAttempt(d, result.ok ? result : { ...result, retryInMs });
    if (!result.ok)
      this.logger.warn(
        { deliveryId: d.id, attempt: d.attempts, error: result.error, retryInMs },
        retryInMs === undefined ? 'webhook delivery failed for good' : 'webhook attempt failed',
      );
  }
}
