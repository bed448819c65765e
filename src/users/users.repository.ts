import { Inject, Injectable } from '@nestjs/common';
import { keysetPage, mapPage, type Page } from '../common/page.js';
import { Database } from '../database/database.js';
import type { SqlExecutor } from '../database/sql-executor.js';
import type { Role, User, UserWithPassword } from './user.types.js';

interface UserRow {
  id: string;
  email: string;
  display_name: string | null;
  role: Role;
  disabled: boolean;
  created_at: Date;
  password_hash: string;
}

const COLUMNS = 'id, email, display_name, role, disabled, created_at, password_hash';

function toUser(r: UserRow): UserWithPassword {
  return {
    id: r.id,
    email: r.email,
    displayName: r.display_name,
    role: r.role,
    disabled: r.disabled,
    createdAt: new Date(r.created_at),
    passwordHash: r.password_hash,
  };
}

@Injectable()
export class UsersRepository {
  constructor(@Inject(Database) private readonly db: Database) {}

  async insert(
    user: {
      id: string;
      email: string;
      passwordHash: string;
      displayName: string | null;
      role: Role;
    },
    tx: SqlExecutor = this.db,
  ): Promise<UserWithPassword> {
    const rows = await tx.query<UserRow>(
      `INSERT INTO users (id, email, password_hash, display_name, role)
       VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
      [user.id, user.email, user.passwordHash, user.displayName, user.role],
    );
    return toUser(rows[0]);
  }

  async findByEmail(email: string): Promise<UserWithPassword | undefined> {
    const rows = await this.db.query<UserRow>(
      `SELECT ${COLUMNS} FROM users WHERE lower(email) = lower($1)`,
      [email],
    );
    return rows[0] && toUser(rows[0]);
  }

  async findById(id: string, tx: SqlExecutor = this.db): Promise<UserWithPassword | undefined> {
    const rows = await tx.query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE id = $1`, [id]);
    return rows[0] && toUser(rows[0]);
  }

  /** Oldest first, keyset-paged, optionally those whose email or name contains `search`. */
  async list(opts: { limit: number; cursor?: string; search?: string }): Promise<Page<User>> {
    const search = opts.search;
    const page = await keysetPage<UserRow>(this.db, {
      columns: COLUMNS,
      table: 'users',
      where: (bind) => {
        if (!search) return undefined;
        const pattern = bind(`%${search.replace(/[\\%_]/g, (c) => '\\' + c)}%`);
        return `(email ILIKE ${pattern} OR display_name ILIKE ${pattern})`;
      },
      orderBy: 'created_at',
      descending: false,
      limit: opts.limit,
      cursor: opts.cursor,
    });
    return mapPage(page, toUser);
  }

  async update(
    id: string,
    patch: { role?: Role; disabled?: boolean; passwordHash?: string },
    tx: SqlExecutor = this.db,
  ): Promise<UserWithPassword | undefined> {
    const rows = await tx.query<UserRow>(
      `UPDATE users SET role = COALESCE($2, role), disabled = COALESCE($3, disabled),
              password_hash = COALESCE($4, password_hash)
       WHERE id = $1 RETURNING ${COLUMNS}`,
      [id, patch.role ?? null, patch.disabled ?? null, patch.passwordHash ?? null],
    );
    return rows[0] && toUser(rows[0]);
  }
}
