import { Global, Module } from '@nestjs/common';
import { RedisConnections } from '../cluster/redis-connections.js';
import { RedisThrottlerStorage } from '../cluster/redis-throttler.storage.js';
import { QuotaGuard } from './quota-guard.service.js';
import { MemoryThrottlerStorage } from './memory-throttler.storage.js';
import { RATE_LIMIT_STORAGE, RateLimitService } from './rate-limit.service.js';
import { UsageService } from './usage.service.js';

@Global()
@Module({
  providers: [
    {
      provide: RATE_LIMIT_STORAGE,
      inject: [RedisConnections],
      // Shared counters with several nodes; this process's memory on one.
      useFactory: (redis: RedisConnections) =>
        redis.command ? new RedisThrottlerStorage(redis.command) : new MemoryThrottlerStorage(),
    },
    RateLimitService,
    UsageService,
    QuotaGuard,
  ],
  exports: [RateLimitService, UsageService, QuotaGuard],
})
export class QuotasModule {}
