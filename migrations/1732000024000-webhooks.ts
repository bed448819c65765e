import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Webhooks (docs/protocol.md "Webhooks"). `webhook_endpoints` are what admins register; the
 * secret is stored encrypted (see src/webhooks/webhook-secrets.ts). `webhook_deliveries` is the
 * outbox: a row per (event, subscribed endpoint), inserted by the statement that writes the
 * event, so both commit together. A dispatcher on any node claims due rows (`next_attempt_at`
 * <= now, FOR UPDATE SKIP LOCKED) and pushes `next_attempt_at` past its send timeout while it
 * sends, so a node that dies mid-send leaves the row to be claimed again.
 */
export class Webhooks1732000024000 implements MigrationInterface {
  name = 'Webhooks1732000024000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE webhook_endpoints (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        url text NOT NULL,
        events text[] NOT NULL,
        description text,
        secret_enc text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE webhook_deliveries (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        endpoint_id uuid NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
        event_type text NOT NULL,
        payload jsonb NOT NULL,
        status text NOT NULL DEFAULT 'pending'
          CHECK (status IN ('pending', 'delivered', 'failed')),
        attempts int NOT NULL DEFAULT 0,
        next_attempt_at timestamptz DEFAULT now(),
        last_status_code int,
        last_error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        delivered_at timestamptz
      )`);
    await q.query(
      `CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at)
       WHERE status = 'pending'`,
    );
    await q.query(
      `CREATE INDEX webhook_deliveries_done_idx ON webhook_deliveries (created_at)
       WHERE status <> 'pending'`,
    );
    await q.query(
      `CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, created_at, id)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE webhook_deliveries`);
    await q.query(`DROP TABLE webhook_endpoints`);
  }
}
