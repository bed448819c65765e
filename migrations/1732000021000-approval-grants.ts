import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Standing grants (docs/protocol.md "Approvals"): a confirmation approved with `scope: "session"`
 * lets later calls of that tool in that session run without asking, until revoked. One row per
 * (session, tool); the run engine (ApprovalGrants) is its one writer, in the transaction that
 * resolves the interaction (and in the one that revokes). Rows go with their session.
 */
export class ApprovalGrants1732000021000 implements MigrationInterface {
  name = 'ApprovalGrants1732000021000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE approval_grants (
        session_id            uuid NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        tool                  text NOT NULL,
        granted_at            timestamptz NOT NULL DEFAULT now(),
        granted_by_user       uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        granted_by_connection text,
        interaction_id        uuid NOT NULL REFERENCES interactions(id) ON DELETE CASCADE,
        PRIMARY KEY (session_id, tool)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE approval_grants`);
  }
}
