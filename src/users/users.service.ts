import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { Subject } from 'rxjs';
import { DomainError } from '../common/domain-error.js';
import { isUuid } from '../common/uuid.js';
import { PG_UNIQUE_VIOLATION, sqlState } from '../database/sql-executor.js';
import type { SqlExecutor } from '../database/sql-executor.js';
import { UsersRepository } from './users.repository.js';
import type { Role, User, UserWithPassword } from './user.types.js';

export interface UserChange {
  user: User;
  /** True when this change disabled the user: their tokens and sockets must stop at once. */
  disabledNow: boolean;
}

@Injectable()
export class UsersService {
  /** Every role/disabled change, for modules that must react (socket disconnects, token revocation). */
  readonly changes$ = new Subject<UserChange>();

  constructor(@Inject(UsersRepository) private readonly users: UsersRepository) {}

  async create(
    input: { email: string; passwordHash: string; displayName: string | null; role: Role },
    tx?: SqlExecutor,
  ): Promise<UserWithPassword> {
    try {
      return await this.users.insert({ id: randomUUID(), ...input }, tx);
    } catch (err) {
      if (sqlState(err) === PG_UNIQUE_VIOLATION) {
        throw new DomainError('CONFLICT', 'An account with this email already exists');
      }
      throw err;
    }
  }

  findByEmail(email: string): Promise<UserWithPassword | undefined> {
    return this.users.findByEmail(email);
  }

  /** The user, or undefined for an unknown or malformed id. */
  async findById(id: string): Promise<UserWithPassword | undefined> {
    return isUuid(id) ? this.users.findById(id) : undefined;
  }

  async get(id: string): Promise<User> {
    const user = await this.findById(id);
    if (!user) throw DomainError.notFound('User');
    return user;
  }

  async list(opts: {
    limit: number;
    cursor?: string;
    search?: string;
  }): Promise<{ items: User[]; nextCursor: string | null }> {
    return this.users.list(opts);
  }

  async update(id: string, patch: { role?: Role; disabled?: boolean }): Promise<User> {
    const before = await this.get(id);
    const user = await this.users.update(id, patch);
    if (!user) throw DomainError.notFound('User');
    this.changes$.next({ user, disabledNow: user.disabled && !before.disabled });
    return user;
  }

  /** Makes sure the configured admin exists with the configured password and the admin role. */
  async ensureAdmin(email: string, passwordHash: string): Promise<User> {
    const existing = await this.users.findByEmail(email);
    if (existing) {
      const updated = await this.users.update(existing.id, {
        role: 'admin',
        disabled: false,
        passwordHash,
      });
      return updated ?? existing;
    }
    return this.create({ email, passwordHash, displayName: 'Administrator', role: 'admin' });
  }
}
