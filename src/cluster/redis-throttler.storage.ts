import { randomUUID } from 'node:crypto';
import type { ThrottlerStorage } from '@nestjs/throttler';
import type { Redis } from 'ioredis';

/**
 * The same sliding window as MemoryThrottlerStorage, in Redis, so every node counts against one
 * budget. One Lua script per hit keeps check-and-add atomic.
 */
const SCRIPT = `
local key, blockKey = KEYS[1], KEYS[2]
local now, ttl, limit, block, member = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
local blocked = redis.call('PTTL', blockKey)
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - ttl)
if blocked > 0 then
  return {redis.call('ZCARD', key), ttl, 1, blocked}
end
redis.call('ZADD', key, now, member)
redis.call('PEXPIRE', key, ttl)
local hits = redis.call('ZCARD', key)
local oldest = tonumber(redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')[2])
if hits > limit then
  redis.call('SET', blockKey, '1', 'PX', block)
  return {hits, oldest + ttl - now, 1, block}
end
return {hits, oldest + ttl - now, 0, 0}
`;

export class RedisThrottlerStorage implements ThrottlerStorage {
  constructor(private readonly redis: Redis) {}

  /** How long `key` stays blocked (ms, 0 when it is not): the block key's PTTL, no hit counted. */
  async blockedFor(key: string, throttlerName: string): Promise<number> {
    return Math.max(0, await this.redis.pttl(`${this.keyOf(key, throttlerName)}:blocked`));
  }

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<{
    totalHits: number;
    timeToExpire: number;
    isBlocked: boolean;
    timeToBlockExpire: number;
  }> {
    const base = this.keyOf(key, throttlerName);
    const [hits, expireMs, blocked, blockMs] = (await this.redis.eval(
      SCRIPT,
      2,
      base,
      `${base}:blocked`,
      Date.now(),
      ttl,
      limit,
      blockDuration,
      randomUUID(),
    )) as [number, number, number, number];
    return {
      totalHits: hits,
      timeToExpire: Math.max(0, Math.ceil(expireMs / 1000)),
      isBlocked: blocked === 1,
      timeToBlockExpire: Math.max(0, Math.ceil(blockMs / 1000)),
    };
  }

  private keyOf(key: string, throttlerName: string): string {
    return `hitl:throttle:${throttlerName}:${key}`;
  }
}
