import type { NestExpressApplication } from '@nestjs/platform-express';
import { createApp, listen } from '../../src/app.factory.js';
import type { AppConfig } from '../../src/config/app-config.js';
import { loadConfig } from '../../src/config/config.loader.js';
import type { TestDatabase } from './databases.js';

export interface TestApp {
  app: NestExpressApplication;
  config: AppConfig;
  baseUrl: string;
  port: number;
  close(): Promise<void>;
}

/** The real application on a free loopback port, on the given test database. */
export async function startTestApp(
  db: TestDatabase,
  env: Record<string, string> = {},
): Promise<TestApp> {
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    // Test files register many users from one address; the throttling tests set their own limit.
    AUTH_RATE_LIMIT_PER_MINUTE: '100000',
    // Likewise sessions: test users create many; the limit's own tests set theirs.
    RATE_LIMIT_SESSIONS_PER_MINUTE: '100000',
    DATA_DIR: db.dataDir,
    ...(db.url ? { DATABASE_URL: db.url } : {}),
    ...env,
  });
  const app = await createApp(config);
  const port = await listen(app, 0, '127.0.0.1');
  return {
    app,
    config,
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    close: () => app.close(),
  };
}
