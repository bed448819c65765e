import { Global, Module } from '@nestjs/common';
import { MetricsController } from './metrics.controller.js';
import { MetricsService } from './metrics.service.js';
import { MetricsWiring } from './metrics-wiring.js';

@Global()
@Module({
  controllers: [MetricsController],
  providers: [MetricsService, MetricsWiring],
  exports: [MetricsService],
})
export class ObservabilityModule {}
