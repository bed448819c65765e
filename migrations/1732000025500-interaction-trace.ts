import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Traces (docs/operations.md "Tracing"): a question remembers the span that asked it (its W3C
 * `traceparent`; null without tracing), so an answer given on any node, later, joins the trace of
 * the run that waits for it.
 */
export class InteractionTrace1732000025500 implements MigrationInterface {
  name = 'InteractionTrace1732000025500';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE interactions ADD COLUMN trace_parent text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE interactions DROP COLUMN trace_parent`);
  }
}
