import { Controller, Get, Inject } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import {
  HealthCheck,
  type HealthCheckResult,
  HealthCheckService,
  HealthIndicatorService,
  type HealthIndicatorResult,
} from '@nestjs/terminus';
import { Public } from '../auth/auth.decorators.js';
import { RedisConnections } from '../cluster/redis-connections.js';
import { Database } from '../database/database.js';

/** Below a load balancer's usual probe timeout (1 s), so it sees 503 rather than a timeout. */
const PING_TIMEOUT_MS = 800;

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    @Inject(HealthCheckService) private readonly health: HealthCheckService,
    @Inject(HealthIndicatorService) private readonly indicators: HealthIndicatorService,
    @Inject(Database) private readonly db: Database,
    @Inject(RedisConnections) private readonly redis: RedisConnections,
  ) {}

  /** The process is up and serving HTTP. */
  @ApiOperation({ summary: 'Liveness: the process serves HTTP', security: [] })
  @Get('live')
  @ApiOkResponse({ description: 'The process is up' })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Dependencies are reachable: the database, and Redis when REDIS_URL is set. 503 otherwise. */
  @ApiOperation({ summary: 'Readiness: the database (and Redis) answer', security: [] })
  @Get('ready')
  @HealthCheck({ swaggerDocumentation: false })
  // Documented here rather than by terminus, whose own documentation differs between runtimes.
  @ApiOkResponse({
    description: 'Every dependency answered: {status: "ok", info, error: {}, details}',
  })
  @ApiServiceUnavailableResponse({
    description: 'A dependency did not answer: {status: "error", info, error, details}',
  })
  ready(): Promise<HealthCheckResult> {
    return this.health.check([() => this.database(), () => this.redisCheck()]);
  }

  private async redisCheck(): Promise<HealthIndicatorResult> {
    const check = this.indicators.check('redis');
    if (!this.redis.enabled) return check.up({ configured: false });
    try {
      await withTimeout(this.redis.ping(), PING_TIMEOUT_MS);
      return check.up({ configured: true });
    } catch (err) {
      return check.down({ configured: true, message: (err as Error).message });
    }
  }

  private async database(): Promise<HealthIndicatorResult> {
    const check = this.indicators.check('database');
    try {
      await withTimeout(this.db.ping(), PING_TIMEOUT_MS);
      return check.up({ kind: this.db.kind });
    } catch (err) {
      return check.down({ kind: this.db.kind, message: (err as Error).message });
    }
  }
}
