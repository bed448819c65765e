import { Inject, Injectable } from '@nestjs/common';
import { keysetPage, type Page } from '../common/page.js';
import type { WebhookDeliveryView, WebhookEventType } from '../contracts/rest-admin.js';
import { Database } from '../database/database.js';
import type { WebhookPayload } from '../history/webhook-outbox.js';

export interface EndpointRow {
  id: string;
  url: string;
  events: WebhookEventType[];
  description: string | null;
  secret_enc: string;
  created_at: Date;
}

interface DeliveryRow {
  id: string;
  event_type: WebhookEventType;
  attempts: number;
  status: WebhookDeliveryView['status'];
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: Date | null;
  created_at: Date;
  delivered_at: Date | null;
}

/** A delivery claimed for one attempt: what sending it needs. */
export interface ClaimedDelivery {
  id: string;
  /** This attempt's number (1 for the first). */
  attempts: number;
  payload: WebhookPayload;
  url: string;
  secret_enc: string;
}

const ENDPOINT_COLUMNS = 'id, url, events, description, secret_enc, created_at';

const iso = (d: Date | null): string | undefined => (d ? new Date(d).toISOString() : undefined);

const toDeliveryView = (r: DeliveryRow): WebhookDeliveryView => {
  const v: WebhookDeliveryView = {
    id: r.id,
    eventType: r.event_type,
    attempts: r.attempts,
    status: r.status,
    createdAt: new Date(r.created_at).toISOString(),
  };
  if (r.last_status_code !== null) v.lastStatusCode = r.last_status_code;
  if (r.last_error !== null) v.lastError = r.last_error;
  if (r.status === 'pending' && r.next_attempt_at) v.nextAttemptAt = iso(r.next_attempt_at);
  if (r.delivered_at) v.deliveredAt = iso(r.delivered_at);
  return v;
};

/**
 * The one owner of webhook_endpoints and webhook_deliveries. Deliveries are inserted by the
 * event log's own write (src/history/history-batch.sql.ts), in the event's transaction; here
 * they are claimed, recorded and listed.
 */
@Injectable()
export class WebhooksRepository {
  constructor(@Inject(Database) private readonly db: Database) {}

  async insertEndpoint(e: {
    url: string;
    events: WebhookEventType[];
    description: string | null;
    secretEnc: string;
  }): Promise<EndpointRow> {
    const [row] = await this.db.query<EndpointRow>(
      `INSERT INTO webhook_endpoints (url, events, description, secret_enc)
       VALUES ($1, $2::text[], $3, $4) RETURNING ${ENDPOINT_COLUMNS}`,
      [e.url, e.events, e.description, e.secretEnc],
    );
    return row;
  }

  listEndpoints(): Promise<EndpointRow[]> {
    return this.db.query<EndpointRow>(
      `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints ORDER BY created_at, id`,
    );
  }

  async findEndpoint(id: string): Promise<EndpointRow | undefined> {
    const rows = await this.db.query<EndpointRow>(
      `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1`,
      [id],
    );
    return rows[0];
  }

  /** Deletes the endpoint and its deliveries; false when there was none. */
  async deleteEndpoint(id: string): Promise<boolean> {
    const { rowCount } = await this.db.execute(`DELETE FROM webhook_endpoints WHERE id = $1`, [id]);
    return rowCount > 0;
  }

  /** An endpoint's deliveries, newest first, keyset-paged on (created_at, id). */
  async listDeliveries(
    endpointId: string,
    q: { limit: number; cursor?: string },
  ): Promise<Page<WebhookDeliveryView>> {
    const page = await keysetPage<DeliveryRow>(this.db, {
      columns: `id, event_type, attempts, status, last_status_code, last_error, next_attempt_at,
        created_at, delivered_at`,
      table: 'webhook_deliveries',
      equal: { endpoint_id: endpointId },
      orderBy: 'created_at',
      descending: true,
      limit: q.limit,
      cursor: q.cursor,
    });
    return { items: page.items.map(toDeliveryView), nextCursor: page.nextCursor };
  }

  /**
   * Claims up to `limit` due deliveries for one attempt each: the rows are locked with SKIP
   * LOCKED (a row another node is claiming is passed over, not waited for), their attempt is
   * counted and their next_attempt_at moved `leaseMs` ahead, all in one statement. The lease
   * outlasts the send's timeout, so the row is due again only if this node never recorded the
   * outcome (it died): then another node sends it again (at least once).
   */
  claimDue(limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
    return this.db.query<ClaimedDelivery>(
      {
        name: 'webhooks_claim_due',
        text: `
WITH due AS (
  SELECT id FROM webhook_deliveries
  WHERE status = 'pending' AND next_attempt_at <= now()
  ORDER BY next_attempt_at
  LIMIT $1
  FOR UPDATE SKIP LOCKED
)
UPDATE webhook_deliveries d
SET attempts = d.attempts + 1, next_attempt_at = now() + $2::int * interval '1 millisecond'
FROM due, webhook_endpoints w
WHERE d.id = due.id AND w.id = d.endpoint_id
RETURNING d.id, d.attempts, d.payload, w.url, w.secret_enc`,
      },
      [limit, leaseMs],
    );
  }

  /**
   * Records an attempt's outcome. Only the claim that made attempt `attempts` may: a node whose
   * lease ran out (and whose row another node claimed since) changes nothing.
   */
  async recordAttempt(
    d: { id: string; attempts: number },
    outcome:
      | { ok: true; statusCode: number }
      | { ok: false; statusCode?: number; error: string; retryInMs: number | undefined },
  ): Promise<void> {
    if (outcome.ok) {
      await this.db.query(
        `UPDATE webhook_deliveries
         SET status = 'delivered', delivered_at = now(), next_attempt_at = NULL,
             last_status_code = $3, last_error = NULL
         WHERE id = $1 AND attempts = $2 AND status = 'pending'`,
        [d.id, d.attempts, outcome.statusCode],
      );
      return;
    }
    await this.db.query(
      `UPDATE webhook_deliveries
       SET status = CASE WHEN $5::int IS NULL THEN 'failed' ELSE 'pending' END,
           next_attempt_at = now() + $5::int * interval '1 millisecond',
           last_status_code = $3, last_error = $4
       WHERE id = $1 AND attempts = $2 AND status = 'pending'`,
      [d.id, d.attempts, outcome.statusCode ?? null, outcome.error, outcome.retryInMs ?? null],
    );
  }
}
