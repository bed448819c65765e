import { Global, Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { Database } from './database.js';

@Injectable()
class DatabaseCloser implements OnApplicationShutdown {
  constructor(@Inject(Database) private readonly db: Database) {}

  // Runs after the HTTP server stopped taking requests and in-flight ones finished.
  async onApplicationShutdown(): Promise<void> {
    await this.db.close();
  }
}

@Global()
@Module({
  providers: [
    {
      provide: Database,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) =>
        Database.open({
          url: config.database.url,
          dataDir: config.dataDir,
          migrate: true,
          poolSize: config.database.poolSize,
        }),
    },
    DatabaseCloser,
  ],
  exports: [Database],
})
export class DatabaseModule {}
