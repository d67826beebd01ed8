/**
 * PROTOCOL §10 "Redis unreachable" and §11 /readyz through real processes, on a redis-server this
 * test starts on a port of its own (never the machine's shared one): while Redis is away no
 * process exits, /readyz answers 503 with the reason, new sockets are refused 503 `unavailable`,
 * open ones stay open and a frame that cannot be stored is answered `unavailable`; when Redis
 * comes back (here: empty, as a restart without persistence is) the brokers take a new epoch,
 * close their sockets with 1012, and the browser is told `bridge.reconnected` with `resumed:false`.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { clusterStack, connectBrowser, connectRawAgent, rawRequest, redisServer, registerClient, type ClusterStack, type Frame, type RedisServer, type TestSocket } from '@agent-bridge/testkit';

let redis: RedisServer;
let stack: ClusterStack;
const sockets: TestSocket[] = [];

beforeAll(async () => {
  redis = await redisServer();
  stack = await clusterStack({ brokers: 2, webServers: 1, redisUrl: redis.url, env: { HEARTBEAT_INTERVAL_MS: '200', HEARTBEAT_TIMEOUT_MS: '2000', LOG_LEVEL: 'info' } });
});
afterAll(async () => {
  for (const s of sockets) s.ws.terminate();
  await stack?.close();
  await redis?.close();
});

async function status(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.json().catch(() => undefined) };
}

async function until(fn: () => Promise<boolean>, timeoutMs = 15_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('Redis stopped and started empty: unavailable meanwhile, then a new epoch and resumed:false; no process exits', async () => {
  const agent = await connectRawAgent(stack.brokerUrls[0]!);
  sockets.push(agent);
  await agent.next('welcome');
  const session = await registerClient(stack.webUrls[0]!);
  const browser = await connectBrowser(stack.webUrls[0]!, session);
  sockets.push(browser);
  const welcome = await browser.next('welcome');
  for (const u of [...stack.brokerUrls, ...stack.webUrls]) expect((await status(`${u}/readyz`)).status).toBe(200);

  await redis.stop();
  // Brokers: not ready, with the reason; the web server: none of its brokers is ready.
  for (const u of stack.brokerUrls) {
    await until(async () => (await status(`${u}/readyz`)).status === 503, 15_000, `${u} /readyz 503`);
    expect((await status(`${u}/readyz`)).body).toMatchObject({ status: 'unavailable', reasons: expect.arrayContaining(['redis']) });
  }
  await until(async () => (await status(`${stack.webUrls[0]}/readyz`)).status === 503, 15_000, 'web /readyz 503');
  // /healthz stays a liveness check.
  for (const u of [...stack.brokerUrls, ...stack.webUrls]) expect((await status(`${u}/healthz`)).status).toBe(200);
  // A new broker socket is refused 503 unavailable.
  const refused = await rawRequest(stack.brokerUrls[1]!, '/ws/agent', {
    headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', authorization: 'Bearer dev_token' },
  });
  expect(refused.status).toBe(503);
  expect(JSON.parse(refused.body.toString())).toMatchObject({ error: { code: 'unavailable' } });
  // The open browser socket stays open; a message that cannot be stored is answered unavailable.
  browser.send({ type: 'message', id: 'while-down', data: 'x' });
  expect(await browser.next((f: Frame) => f.type === 'error' && f.ref === 'while-down', 10_000)).toMatchObject({ code: 'unavailable' });
  expect(browser.closed).toBeUndefined();
  for (const p of stack.processes) expect(p.running).toBe(true);

  await redis.start();
  // Back empty: a new epoch; the brokers closed their sockets with 1012 and the web server redialed.
  const back = await browser.event('bridge.reconnected', 30_000);
  expect(back.epoch).not.toBe(welcome.epoch);
  expect(back.resumed).toBe(false);
  for (const u of stack.brokerUrls) await until(async () => (await status(`${u}/readyz`)).status === 200, 15_000, `${u} ready again`);
  // Service resumed without a restart: a new agent connection and the browser reach each other.
  const again = await connectRawAgent(stack.brokerUrls[1]!);
  sockets.push(again);
  await again.next('welcome');
  browser.send({ type: 'message', data: 'after', id: 'after' });
  expect(await again.next((f: Frame) => f.type === 'client.message' && f.data === 'after', 10_000)).toMatchObject({ clientId: session.clientId });
  expect(await browser.next((f: Frame) => f.type === 'accepted' && f.ref === 'after')).toBeTruthy();
  for (const p of stack.processes) expect(p.running).toBe(true);
  // The cluster's own metric families moved: Redis failures and reconnects on every process, and
  // frames that crossed brokers (the agent is on broker 2, the browser's socket on another or the same).
  for (const u of [...stack.brokerUrls, ...stack.webUrls]) {
    const text = await (await fetch(`${u}/metrics`)).text();
    expect(metric(text, 'agent_bridge_redis_errors_total'), `${u} redis errors`).toBeGreaterThan(0);
    expect(metric(text, 'agent_bridge_redis_reconnects_total'), `${u} redis reconnects`).toBeGreaterThan(0);
  }
});

test('frames crossing brokers are timed (agent_bridge_cross_broker_lag_seconds)', async () => {
  const agent = await connectRawAgent(stack.brokerUrls[0]!);
  sockets.push(agent);
  await agent.next('welcome');
  const { TestSocket: TS } = await import('@agent-bridge/testkit');
  const client = await TS.open(`${stack.brokerUrls[1]!.replace(/^http/, 'ws')}/ws/client/lag-1`, { headers: { authorization: 'Bearer dev_proxy_token' } });
  sockets.push(client);
  await client.next('welcome');
  for (let i = 0; i < 5; i++) agent.send({ type: 'send', to: 'lag-1', data: i });
  for (let i = 0; i < 5; i++) await client.next('message');
  const text = await (await fetch(`${stack.brokerUrls[1]}/metrics`)).text();
  expect(metric(text, 'agent_bridge_cross_broker_lag_seconds_count')).toBeGreaterThanOrEqual(5);
});

/** The sum of a family's series in a Prometheus text. */
function metric(text: string, name: string): number {
  return [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].reduce((n, m) => n + Number(m[1]), 0);
}
