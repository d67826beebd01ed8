/**
 * The web server's store contracts against the real Redis (REDIS_TEST_URL, default
 * redis://127.0.0.1:6379): two connections stand for two web servers. Each run has its own
 * CLUSTER_PREFIX, and every key under it is deleted afterwards.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, afterEach, expect, it } from 'vitest';
import { createLogger } from '@agent-bridge/common';
import { RedisLink } from '@agent-bridge/common/redis';
import { webRedis, type WebRedis } from '../src/cluster/redis.ts';
import { RedisNonceStore } from '../src/siwe/nonce-store-redis.ts';
import { RedisHitCounter } from '../src/http/rate-limit-store-redis.ts';
import { RedisRevocations } from '../src/session/revocations-redis.ts';
import { describeNonceStoreContract } from './contracts/nonce-store.contract.ts';
import { describeHitCounterContract } from './contracts/hit-counter.contract.ts';
import { describeRevocationsContract } from './contracts/revocations.contract.ts';
import { deleteKeys, keysWithoutTtl } from './redis-helpers.ts';

const REDIS_URL = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `test-web-${randomBytes(6).toString('hex')}`;
const log = createLogger('test', { level: 'silent' });

const links: RedisLink[] = [];
const closers: (() => void)[] = [];
afterEach(() => {
  for (const c of closers.splice(0)) c();
});
afterAll(async () => {
  const [first] = links;
  if (first) await deleteKeys(first, PREFIX);
  for (const l of links) await l.close();
});

/** A connection per "web server", the same prefix for both (one test prefix per test, under PREFIX). */
let n = 0;
async function twoServers(): Promise<[WebRedis, WebRedis]> {
  const prefix = `${PREFIX}:${++n}`;
  const out: WebRedis[] = [];
  for (const name of ['web-a', 'web-b']) {
    const link = new RedisLink({ url: REDIS_URL, log, name });
    await link.start();
    if (!link.up) throw new Error(`redis is not reachable at ${new URL(REDIS_URL).host}`);
    links.push(link);
    out.push(webRedis(link, prefix));
  }
  return out as [WebRedis, WebRedis];
}

describeNonceStoreContract('redis', async ({ now, maxPerOwner }) => {
  const [a, b] = await twoServers();
  return [new RedisNonceStore({ redis: a, now, maxPerOwner }), new RedisNonceStore({ redis: b, now, maxPerOwner })];
});
describeHitCounterContract('redis', async (windowMs) => {
  const [a, b] = await twoServers();
  return [new RedisHitCounter({ redis: a, windowMs }), new RedisHitCounter({ redis: b, windowMs })];
});
describeRevocationsContract('redis', async (opts) => {
  const [a, b] = await twoServers();
  const stores = [new RedisRevocations({ redis: a, log, ...opts }), new RedisRevocations({ redis: b, log, ...opts })] as const;
  for (const s of stores) {
    await s.start();
    closers.push(() => s.close());
  }
  return [stores[0], stores[1]];
});

it('a web server started after a sign-out loads it (every record, past one SCAN batch)', async () => {
  const [a, b] = await twoServers();
  const nowS = Math.floor(Date.now() / 1000);
  const first = new RedisRevocations({ redis: a, log, ttlS: 3600, nowS: () => nowS });
  await first.start();
  closers.push(() => first.close());
  const ids = Array.from({ length: 1200 }, () => randomUUID());
  for (const id of ids) expect(await first.revoke(id)).toBe(true);
  const later = new RedisRevocations({ redis: b, log, ttlS: 3600, nowS: () => nowS });
  await later.start();
  closers.push(() => later.close());
  expect(ids.filter((id) => !later.isRevoked(id, nowS))).toEqual([]);
  expect(later.isRevoked(randomUUID(), nowS)).toBe(false);
});

// Runs after the contracts above (one file runs in order): nothing they wrote lives for ever.
it('every key the stores wrote has a TTL', async () => {
  const [first] = links;
  expect(first).toBeDefined();
  expect(await keysWithoutTtl(first!, PREFIX)).toEqual([]);
});
