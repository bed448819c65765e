import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export type DatabaseKind = 'pglite' | 'postgres';

export interface TestDatabase {
  kind: DatabaseKind;
  /** DATABASE_URL for the app; undefined for the embedded database. */
  url: string | undefined;
  /** A fresh DATA_DIR (holds PGlite's files and the generated JWT secret). */
  dataDir: string;
  drop(): Promise<void>;
}

const adminUrl = process.env.TEST_DATABASE_URL;

/**
 * Runs `body` once per database kind. TEST_DATABASE_URL is always set by then: given, or a
 * throwaway cluster started by global-setup.ts.
 */
export function describeEachDatabase(title: string, body: (kind: DatabaseKind) => void): void {
  describe(`${title} [pglite]`, () => body('pglite'));
  describe(`${title} [postgres]`, () => body('postgres'));
}

function databaseUrl(base: string, name: string): string {
  const u = new URL(base);
  u.pathname = `/${name}`;
  return u.toString();
}

/** A brand-new empty database of the given kind, dropped by `drop()`. */
export async function createTestDatabase(kind: DatabaseKind): Promise<TestDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hitl-test-'));
  if (kind === 'pglite') {
    return {
      kind,
      url: undefined,
      dataDir,
      drop: () => Promise.resolve(rmSync(dataDir, { recursive: true, force: true })),
    };
  }
  if (!adminUrl) throw new Error('TEST_DATABASE_URL is required for PostgreSQL tests');
  const name = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return {
    kind,
    url: databaseUrl(adminUrl, name),
    dataDir,
    drop: async () => {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
