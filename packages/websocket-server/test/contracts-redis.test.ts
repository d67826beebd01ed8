/**
 * The seams' contract suites (test/contracts/) against the Redis implementations (cluster mode,
 * PROTOCOL §10), on the real Redis at REDIS_TEST_URL (default redis://127.0.0.1:6379). Every store
 * gets a prefix of its own, and every key of this run is deleted afterwards.
 */
import { createLogger } from '@agent-bridge/common';
import { RedisLink } from '@agent-bridge/common/redis';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisAgentDirectory } from '../src/store/redis/agent-directory-redis.ts';
import { RedisClusterBus } from '../src/store/redis/cluster-bus-redis.ts';
import { RedisEpochSource } from '../src/store/redis/epoch-source-redis.ts';
import { Keys } from '../src/store/redis/keys.ts';
import { RedisRateLimitStore } from '../src/store/redis/rate-limit-store-redis.ts';
import { RedisSessionLog } from '../src/store/redis/session-log-redis.ts';
import { RedisSessionStore } from '../src/store/redis/session-store-redis.ts';
import { RedisWaitQueues } from '../src/store/redis/wait-queue-store-redis.ts';
import { describeAgentDirectoryContract } from './contracts/agent-directory.contract.ts';
import { describeClusterBusContract } from './contracts/cluster-bus.contract.ts';
import { describeEpochSourceContract } from './contracts/epoch-source.contract.ts';
import { describeRateLimitStoreContract } from './contracts/rate-limit-store.contract.ts';
import { describeSessionLogContract } from './contracts/session-log.contract.ts';
import { describeSessionStoreContract } from './contracts/session-store.contract.ts';
import { describeWaitQueueStoreContract } from './contracts/wait-queue-store.contract.ts';
import { REDIS_TEST_URL, redisRun } from './redis-run.ts';

const { redis: main, prefix } = redisRun('abtest');
const log = createLogger('contracts-redis', { level: 'silent' });
const links: RedisLink[] = [];
const stoppers: (() => void)[] = [];

const fresh = () => new Keys(prefix());
/** A further link (a subscriber), closed after the file's tests. */
const link = async (): Promise<RedisLink> => {
  const l = new RedisLink({ url: REDIS_TEST_URL, log, name: 'test' });
  await l.start();
  links.push(l);
  return l;
};

// Runs before redisRun's own afterAll (hooks unwind in reverse): the keys go once nothing writes.
afterAll(async () => {
  for (const stop of stoppers) stop();
  await Promise.all(links.map((l) => l.close()));
});

describeSessionStoreContract('redis', (bounds) => new RedisSessionStore(main, fresh(), 'node-a', bounds));
describeSessionLogContract('redis', (b) => new RedisSessionLog(main, fresh(), 'node-a', { frames: b.frames, bytes: b.bytes, sessionTtlMs: 60_000, agentIdsKept: 1000 }), { shared: true });
describeAgentDirectoryContract('redis', () => new RedisAgentDirectory(main, fresh()));
describeWaitQueueStoreContract(
  'redis',
  (b) => {
    const q = new RedisWaitQueues(main, fresh(), b.limit, b.maxAgeMs, { budget: b.budget, perClient: b.perClient }, () => undefined, 1000);
    q.start();
    stoppers.push(() => q.clear());
    return q;
  },
  { sharedClear: true },
);
describeRateLimitStoreContract('redis', (b) => new RedisRateLimitStore(main, fresh(), b.ratePerSec, b.burst, b.now));
describeClusterBusContract('redis', async () => {
  const sub = await link();
  const bus = new RedisClusterBus(main, sub, fresh(), 'node-a', (err) => {
    throw err;
  });
  await bus.start();
  return bus;
});
describeEpochSourceContract('redis', () => new RedisEpochSource(main, fresh()));

describe('Redis stores: what only a shared store must do', () => {
  it('two brokers on one prefix see one epoch; it changes only when the key is lost', async () => {
    const keys = fresh();
    const a = new RedisEpochSource(main, keys);
    const b = new RedisEpochSource(main, keys);
    const first = await a.current();
    expect(await b.current()).toBe(first);
    const seen: string[] = [];
    b.onChange((e) => seen.push(e));
    await main.cmd(['DEL', keys.epoch]);
    await b.check();
    expect(seen).toHaveLength(1);
    expect(seen[0]).not.toBe(first);
    await a.check();
    expect(await a.current()).toBe(seen[0]);
  });

  it('a claim by another broker fences the first one’s detach, and names it in takenFrom', async () => {
    const keys = fresh();
    const bounds = { maxSessions: 100, maxPerIp: 100 };
    const a = new RedisSessionStore(main, keys, 'node-a', bounds);
    const b = new RedisSessionStore(main, keys, 'node-b', bounds);
    const rec = { clientId: 'c1', epoch: 'e', address: null, createdAt: 1, expiresAt: null };
    expect((await a.getOrCreate(rec)).takenFrom).toBeUndefined();
    const claimed = await b.getOrCreate(rec);
    expect(claimed.created).toBe(false);
    expect(claimed.takenFrom).toBe('node-a');
    // node-a's socket closes late: its detach must not end node-b's session.
    expect(await a.update('c1', { expiresAt: Date.now() + 1000 })).toBeUndefined();
    expect((await a.get('c1'))?.owner).toBe('node-b');
    expect(await b.update('c1', { expiresAt: Date.now() + 1000 })).toMatchObject({ expiresAt: expect.any(Number) });
  });

  it('a dead broker’s session is orphaned once, then expires once', async () => {
    const keys = fresh();
    const bounds = { maxSessions: 100, maxPerIp: 100 };
    const a = new RedisSessionStore(main, keys, 'node-a', bounds);
    const b = new RedisSessionStore(main, keys, 'node-b', bounds);
    const c = new RedisSessionStore(main, keys, 'node-c', bounds);
    await a.getOrCreate({ clientId: 'c1', epoch: 'e', address: null, createdAt: 1, expiresAt: null });
    const now = Date.now();
    const [ob, oc] = await Promise.all([b.orphan('c1', 'node-a', now + 10), c.orphan('c1', 'node-a', now + 10)]);
    expect([ob, oc].filter(Boolean)).toHaveLength(1);
    expect(await b.due(now + 20, 10)).toEqual(['c1']);
    const [eb, ec] = await Promise.all([b.expire('c1', now + 20), c.expire('c1', now + 20)]);
    expect([eb, ec].filter(Boolean)).toHaveLength(1);
    expect(await b.get('c1')).toBeUndefined();
    expect(await b.size()).toBe(0);
  });

  it('the append notifies the broker holding the socket in the same step, with the frame text', async () => {
    const keys = fresh();
    const bounds = { maxSessions: 100, maxPerIp: 100 };
    const owner = new RedisSessionStore(main, keys, 'node-a', bounds);
    await owner.getOrCreate({ clientId: 'c1', epoch: 'e', address: null, createdAt: 1, expiresAt: null });
    const sub = await link();
    const bus = new RedisClusterBus(main, sub, keys, 'node-a', () => undefined);
    await bus.start();
    const got: unknown[] = [];
    bus.subscribe((m) => got.push(m));
    const other = new RedisSessionLog(main, keys, 'node-b', { frames: 10, bytes: 1 << 20, sessionTtlMs: 60_000, agentIdsKept: 1000 });
    const f = await other.append('c1', { type: 'system', render: (seq) => `{"type":"system","seq":${seq},"event":"x"}` }, 'system');
    expect(f).toMatchObject({ seq: 1, owner: 'node-a', payload: '{"type":"system","seq":1,"event":"x"}' });
    await expect.poll(() => got).toEqual([
      { kind: 'deliver', clientId: 'c1', frameKind: 'system', frame: { seq: 1, type: 'system', payload: '{"type":"system","seq":1,"event":"x"}' } },
    ]);
  });

  it('pins agree across brokers: one pin per client per name, whichever broker picks', async () => {
    const keys = fresh();
    const a = new RedisAgentDirectory(main, keys);
    const b = new RedisAgentDirectory(main, keys);
    await a.add({ name: 'echo', agentId: 'x1', node: 'node-a' });
    await b.add({ name: 'echo', agentId: 'x2', node: 'node-b' });
    const ids = Array.from({ length: 20 }, (_, i) => `client-${i}`);
    const fromA = await Promise.all(ids.map((id) => a.pick('echo', id)));
    const fromB = await Promise.all(ids.map((id) => b.pick('echo', id)));
    expect(fromB.map((p) => p?.agentId)).toEqual(fromA.map((p) => p?.agentId));
    // Rendezvous hashing spreads 20 clients over both connections (all on one: a 2^-19 chance).
    expect(new Set(fromA.map((p) => p?.agentId)).size).toBe(2);
  });
});
