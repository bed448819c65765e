import { Global, Module } from '@nestjs/common';
import { MetricsService } from './metrics.service.js';
import { MetricsWiring } from './metrics-wiring.js';

@Global()
@Module({
  providers: [MetricsService, MetricsWiring],
  exports: [MetricsService],
})
export class ObservabilityModule {}
