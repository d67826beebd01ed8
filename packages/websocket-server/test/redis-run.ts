/**
 * A test file's share of the real Redis (REDIS_TEST_URL, default the shared 127.0.0.1:6379): a
 * key prefix of its own so that runs never collide, one link opened before the file's tests, and
 * every key under the prefix deleted after them (SCAN + UNLINK, never a KEYS that blocks Redis).
 */
import { randomUUID } from 'node:crypto';
import { createLogger } from '@agent-bridge/common';
import { RedisLink, scanKeys } from '@agent-bridge/common/redis';
import { afterAll, beforeAll } from 'vitest';
import { oldGeneration } from '../src/store/redis/lua.ts';

export const REDIS_TEST_URL = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379';

export interface RedisRun {
  /** Every key this file makes starts with it. */
  run: string;
  /** Open from the file's beforeAll to its afterAll. */
  redis: RedisLink;
  /** A prefix of its own under the run's, for one test's keys or one cluster. */
  prefix(): string;
  /** UNLINK every key matching a SCAN pattern. */
  deleteKeys(match: string): Promise<void>;
}

/** Call at a test file's top level: registers the link's beforeAll and the cleanup's afterAll. */
export function redisRun(tag: string): RedisRun {
  const run = `${tag}-${randomUUID().slice(0, 8)}`;
  const redis = new RedisLink({ url: REDIS_TEST_URL, log: createLogger(tag, { level: 'silent' }), name: 'test' });
  const deleteKeys = async (match: string): Promise<void> => {
    for await (const keys of scanKeys(redis, match)) await redis.cmd(['UNLINK', ...keys]);
  };
  beforeAll(() => redis.start());
  afterAll(async () => {
    await deleteKeys(`${run}:*`);
    await redis.close();
  });
  return { run, redis, prefix: () => `${run}:${randomUUID().slice(0, 8)}`, deleteKeys };
}

/**
 * The ids a §8 reference set holds, its two generations together (store/redis/lua.ts), sorted;
 * an id held by both is listed twice.
 */
export async function refsHeld(redis: RedisLink, key: string): Promise<string[]> {
  const [now, old] = await Promise.all([redis.cmd<string[]>(['HKEYS', key]), redis.cmd<string[]>(['HKEYS', oldGeneration(key)])]);
  return [...now, ...old].sort();
}
