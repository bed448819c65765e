import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Durable pauses (docs/architecture.md "Pauses outlive their process"). A run waiting on a
 * question whose process stopped (SIGTERM) or died (the takeover found it stale) is `parked`:
 * still `awaiting_input`, held by no node, until an answer or its deadline lets a node adopt it.
 * A question remembers the tool call that asked it (`call_key`, the tool-call ledger's key), so
 * the run that adopts it finds the question it asked instead of asking again.
 */
export class DurablePauses1732000022000 implements MigrationInterface {
  name = 'DurablePauses1732000022000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE runs ADD COLUMN parked_at timestamptz`);
    await q.query(`ALTER TABLE interactions ADD COLUMN call_key text`);
    await q.query(`CREATE INDEX runs_parked_idx ON runs (parked_at) WHERE parked_at IS NOT NULL`);
    await q.query(`CREATE INDEX interactions_run_idx ON interactions (run_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX interactions_run_idx`);
    await q.query(`DROP INDEX runs_parked_idx`);
    await q.query(`ALTER TABLE interactions DROP COLUMN call_key`);
    await q.query(`ALTER TABLE runs DROP COLUMN parked_at`);
  }
}
