import { Global, Module } from '@nestjs/common';
import { ClusterBus } from './cluster-bus.js';
import { RedisConnections } from './redis-connections.js';

/** Multi-node plumbing (REDIS_URL); inert on a single node. */
@Global()
@Module({
  providers: [RedisConnections, ClusterBus],
  exports: [RedisConnections, ClusterBus],
})
export class ClusterModule {}
