import { Global, Module } from '@nestjs/common';
import { MemoryThrottlerStorage } from './memory-throttler.storage.js';
import { RATE_LIMIT_STORAGE, RateLimitService } from './rate-limit.service.js';
import { UsageService } from './usage.service.js';

@Global()
@Module({
  providers: [
    { provide: RATE_LIMIT_STORAGE, useFactory: () => new MemoryThrottlerStorage() },
    RateLimitService,
    UsageService,
  ],
  exports: [RateLimitService, UsageService],
})
export class QuotasModule {}
