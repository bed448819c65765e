import { Global, Module } from '@nestjs/common';
import { RedisConnections } from '../cluster/redis-connections.js';
import { RedisThrottlerStorage } from '../cluster/redis-throttler.storage.js';
import { QuotaGuard } from './quota-guard.service.js';
import { QuotaPolicy } from './quota-policy.service.js';
import { MetricsService } from '../observability/metrics.service.js';
import { FallbackThrottlerStorage } from './fallback-throttler.storage.js';
import { MemoryThrottlerStorage } from './memory-throttler.storage.js';
import { RATE_LIMIT_STORAGE, RateLimitService } from './rate-limit.service.js';
import { UsageService } from './usage.service.js';

@Global()
@Module({
  providers: [
    {
      provide: RATE_LIMIT_STORAGE,
      inject: [RedisConnections, MetricsService],
      // Shared counters with several nodes (this node's memory while Redis is away); memory on one.
      useFactory: (redis: RedisConnections, metrics: MetricsService) => {
        const command = redis.command;
        if (!command) return new MemoryThrottlerStorage();
        return new FallbackThrottlerStorage(
          new RedisThrottlerStorage(command),
          () => command.status === 'ready',
          metrics,
        );
      },
    },
    RateLimitService,
    UsageService,
    QuotaGuard,
    QuotaPolicy,
  ],
  exports: [RATE_LIMIT_STORAGE, RateLimitService, UsageService, QuotaPolicy],
})
export class QuotasModule {}
