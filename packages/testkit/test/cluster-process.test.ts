/** clusterStack() and redisServer() through real processes (on the machine's Redis, own prefix). */
import { afterAll, expect, test } from 'vitest';
import { createClient } from 'redis';
import { clusterStack, countPrefixKeys, redisServer, SHARED_REDIS_URL, type ClusterStack } from '../src/index.ts';

const open: { close(): Promise<void> }[] = [];
afterAll(async () => {
  for (const x of open.splice(0)) await x.close();
});

async function ping(url: string): Promise<string> {
  const c = createClient({ url, socket: { connectTimeout: 1000, reconnectStrategy: false } });
  c.on('error', () => undefined);
  try {
    await c.connect();
    const v = (await c.sendCommand(['PING'])) as string;
    await c.close();
    return v;
  } catch (err) {
    c.destroy();
    return `down: ${String(err).slice(0, 80)}`;
  }
}

test('redisServer: its own port, stop/start on the same port, kill, flushAll empties it', async () => {
  const r = await redisServer();
  open.push(r);
  expect(r.port).not.toBe(6379);
  expect(await ping(r.url)).toBe('PONG');
  const c = createClient({ url: r.url });
  await c.connect();
  await c.sendCommand(['SET', 'k', 'v']);
  await c.close();
  await r.flushAll();
  const c2 = createClient({ url: r.url });
  await c2.connect();
  expect(await c2.sendCommand(['DBSIZE'])).toBe(0);
  await c2.close();
  await r.stop();
  expect(r.running).toBe(false);
  expect(await ping(r.url)).toMatch(/^down/);
  await r.start();
  expect(await ping(r.url)).toBe('PONG');
  await r.kill();
  expect(await ping(r.url)).toMatch(/^down/);
});

test('clusterStack: brokers with their NODE_IDs and the prefix, web servers listing every broker, restart on the same port, close deletes the keys', async () => {
  const s: ClusterStack = await clusterStack({ brokers: 2, webServers: 2 });
  open.push(s);
  expect(s.prefix).toMatch(/^t[0-9a-f]{12}$/);
  expect(s.brokers.map((b) => b.spec.env.NODE_ID)).toEqual(['broker-1', 'broker-2']);
  for (const b of s.brokers) expect(b.spec.env).toMatchObject({ REDIS_URL: SHARED_REDIS_URL, CLUSTER_PREFIX: s.prefix });
  for (const w of s.webServers) expect(w.spec.env.BROKER_URL).toBe(s.brokerWsUrls.join(','));
  expect((await fetch(`${s.frontUrl}/healthz`)).status).toBe(200);
  // The front door skips a dead web server.
  await s.webServers[0]!.kill();
  for (let i = 0; i < 4; i++) expect((await fetch(`${s.frontUrl}/healthz`, { headers: { connection: 'close' } })).status).toBe(200);
  const port = s.brokers[1]!.port;
  await s.brokers[1]!.kill();
  await s.brokers[1]!.start();
  expect(s.brokers[1]!.port).toBe(port);
  // Whatever the brokers stored, and a key of our own, goes with close().
  const c = createClient({ url: SHARED_REDIS_URL });
  await c.connect();
  await c.sendCommand(['SET', `${s.prefix}:testkit-probe`, '1', 'EX', '60']);
  await c.close();
  expect(await countPrefixKeys(SHARED_REDIS_URL, s.prefix)).toBeGreaterThan(0);
  await s.close();
  expect(await countPrefixKeys(SHARED_REDIS_URL, s.prefix)).toBe(0);
  expect(s.processes.every((p) => !p.running)).toBe(true);
}, 60_000);
