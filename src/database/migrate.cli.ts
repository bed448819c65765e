import 'reflect-metadata';
import { ConfigError, loadConfig } from '../config/config.loader.js';
import { Database } from './database.js';

/** `migrate.cli.js run|revert|status` against DATABASE_URL, or the embedded database in DATA_DIR. */
async function main(command: string | undefined): Promise<void> {
  if (command !== 'run' && command !== 'revert' && command !== 'status') {
    throw new Error('usage: migrate.cli.js run|revert|status');
  }
  const config = loadConfig(process.env);
  const db = await Database.open({
    url: config.database.url,
    dataDir: config.dataDir,
    migrate: false,
  });
  try {
    switch (command) {
      case 'run': {
        const names = await db.migrate();
        process.stdout.write(
          names.length ? `applied: ${names.join(', ')}\n` : 'nothing to apply\n',
        );
        break;
      }
      case 'revert':
        await db.revertLast();
        process.stdout.write('reverted the last migration\n');
        break;
      case 'status': {
        const pending = await db.dataSource.showMigrations();
        process.stdout.write(pending ? 'migrations pending\n' : 'up to date\n');
        break;
      }
    }
  } finally {
    await db.close();
  }
}

main(process.argv[2]).catch((err: unknown) => {
  process.stderr.write((err instanceof ConfigError ? err.message : String(err)) + '\n');
  process.exit(1);
});
