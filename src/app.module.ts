import { type DynamicModule, Module } from '@nestjs/common';
import { RetentionModule } from './retention/retention.module.js';
import { AdminModule } from './admin/admin.module.js';
import { AgentModule } from './agent/agent.module.js';
import { ChatModule } from './chat/chat.module.js';
import { ClusterModule } from './cluster/cluster.module.js';
import { ObservabilityModule } from './observability/observability.module.js';
import { QuotasModule } from './quotas/quotas.module.js';
import { AuthModule } from './auth/auth.module.js';
import type { AppConfig } from './config/app-config.js';
import { ConfigModule } from './config/config.module.js';
import { FaultPointsModule } from './common/fault-points.module.js';
import { DatabaseModule } from './database/database.module.js';
import { DocsModule } from './docs/docs.module.js';
import { HealthModule } from './health/health.module.js';
import { HistoryModule } from './history/history.module.js';
import { InboxModule } from './inbox/inbox.module.js';
import { SessionsModule } from './sessions/sessions.module.js';
import { StreamsModule } from './streams/streams.module.js';
import { LoggingModule } from './observability/logging.module.js';
import { WebhooksModule } from './webhooks/webhooks.module.js';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        FaultPointsModule,
        LoggingModule,
        ObservabilityModule,
        DatabaseModule,
        HistoryModule,
        ClusterModule,
        AuthModule,
        SessionsModule,
        StreamsModule,
        QuotasModule,
        AgentModule,
        ChatModule,
        InboxModule,
        AdminModule,
        WebhooksModule,
        RetentionModule,
        HealthModule,
        DocsModule,
      ],
    };
  }
}
