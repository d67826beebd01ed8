/**
 * The shared HitCounter of cluster mode: one fixed window per IP counted by every web server
 * (PROTOCOL §10), `<prefix>:web:rl:<key>` = the count, expiring with its window. The increment
 * and the window's TTL are one Lua step, so a counter can never be left without a TTL.
 */
import { storeCall } from '../cluster/unavailable.ts';
import type { WebRedis } from '../cluster/redis.ts';
import type { HitCounter, Hits } from './rate-limit-store.ts';

/** KEYS[1] counter; ARGV windowMs → {count, ms left in the window}. */
const HIT = `
local c = redis.call('INCR', KEYS[1])
local t = redis.call('PTTL', KEYS[1])
if t < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); t = tonumber(ARGV[1]) end
return {c, t}`;

/** KEYS[1] counter → decrement unless already gone or zero. */
const UNHIT = `
local c = tonumber(redis.call('GET', KEYS[1]) or '0')
if c > 0 then redis.call('DECR', KEYS[1]) end
return 1`;

export interface RedisHitCounterOptions {
  redis: WebRedis;
  windowMs: number;
}

export class RedisHitCounter implements HitCounter {
  constructor(private readonly opts: RedisHitCounterOptions) {}

  private key(key: string): string {
    return this.opts.redis.key('rl', key);
  }

  async hit(key: string): Promise<Hits> {
    const [count, leftMs] = await storeCall('redis', () => this.opts.redis.link.eval<[number, number]>(HIT, [this.key(key)], [String(this.opts.windowMs)]));
    return { count: Number(count), resetAtMs: Date.now() + Number(leftMs) };
  }

  async unhit(key: string): Promise<void> {
    await storeCall('redis', () => this.opts.redis.link.eval(UNHIT, [this.key(key)], []));
  }

  async reset(key: string): Promise<void> {
    await storeCall('redis', () => this.opts.redis.link.cmd(['DEL', this.key(key)]));
  }

  close(): void {
    // The connection belongs to the web server.
  }
}
