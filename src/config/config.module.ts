import { type DynamicModule, Global, Module } from '@nestjs/common';
import { FaultPoints } from '../common/fault-points.js';
import { APP_CONFIG, type AppConfig } from './app-config.js';

/**
 * Provides the AppConfig validated at boot (see config.loader.ts) to every module, and the fault
 * points it switches on in tests (common/fault-points.ts).
 */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: APP_CONFIG, useValue: config }, FaultPoints],
      exports: [APP_CONFIG, FaultPoints],
    };
  }
}
