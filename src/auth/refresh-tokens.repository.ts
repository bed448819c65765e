import { Inject, Injectable } from '@nestjs/common';
import { Database } from '../database/database.js';
import type { SqlExecutor } from '../database/sql-executor.js';

export interface RefreshTokenRow {
  id: string;
  user_id: string;
  family_id: string;
  token_hash: string;
  expires_at: Date;
  used_at: Date | null;
  revoked_at: Date | null;
  /** The pair this token's rotation issued, sealed with its secret (see refresh-grace.ts). */
  grace_pair: string | null;
  /** Used within the refresh grace (decided by the database's clock). */
  in_grace: boolean;
}

const COLUMNS = `id, user_id, family_id, token_hash, expires_at, used_at, revoked_at, grace_pair,
  coalesce(used_at > now() - make_interval(secs => $2::int / 1000.0), false) AS in_grace`;

@Injectable()
export class RefreshTokensRepository {
  constructor(@Inject(Database) private readonly db: Database) {}

  async insert(
    t: { id: string; userId: string; familyId: string; tokenHash: string; expiresAt: Date },
    tx: SqlExecutor = this.db,
  ): Promise<void> {
    await tx.query(
      `INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, expires_at)
       VALUES ($1, $2, $3, $4, $5)`,
      [t.id, t.userId, t.familyId, t.tokenHash, t.expiresAt],
    );
  }

  async findForUpdate(
    id: string,
    graceMs: number,
    tx: SqlExecutor,
  ): Promise<RefreshTokenRow | undefined> {
    const rows = await tx.query<RefreshTokenRow>(
      `SELECT ${COLUMNS} FROM refresh_tokens WHERE id = $1 FOR UPDATE`,
      [id, graceMs],
    );
    return rows[0];
  }

  async find(id: string): Promise<RefreshTokenRow | undefined> {
    const rows = await this.db.query<RefreshTokenRow>(
      `SELECT ${COLUMNS} FROM refresh_tokens WHERE id = $1`,
      [id, 0],
    );
    return rows[0];
  }

  async markUsed(id: string, gracePair: string, tx: SqlExecutor): Promise<boolean> {
    const r = await tx.execute(
      `UPDATE refresh_tokens SET used_at = now(), grace_pair = $2
       WHERE id = $1 AND used_at IS NULL AND revoked_at IS NULL`,
      [id, gracePair],
    );
    return r.rowCount === 1;
  }

  async revokeFamily(familyId: string, tx: SqlExecutor = this.db): Promise<void> {
    await tx.query(
      `UPDATE refresh_tokens SET revoked_at = now(), grace_pair = NULL
       WHERE family_id = $1 AND revoked_at IS NULL`,
      [familyId],
    );
  }

  async revokeAllOfUser(userId: string, tx: SqlExecutor = this.db): Promise<void> {
    await tx.query(
      `UPDATE refresh_tokens SET revoked_at = now(), grace_pair = NULL
       WHERE user_id = $1 AND revoked_at IS NULL`,
      [userId],
    );
  }
}
