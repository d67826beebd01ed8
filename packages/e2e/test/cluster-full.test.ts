/**
 * PROTOCOL §10 through real processes (testkit clusterStack: 2 brokers + 2 web servers on the
 * machine's Redis under a prefix of their own): a broker SIGKILLed under traffic, every broker
 * restarted, a web server killed, prefix isolation. Redis itself stopped and started: cluster-redis.test.ts.
 */
import { createClient } from 'redis';
import { afterEach, describe, expect, test } from 'vitest';
import { clusterStack, connectBrowser, connectRawAgent, registerClient, type ClusterStack, type Frame, type TestSocket } from '@agent-bridge/testkit';

const FAST = { HEARTBEAT_INTERVAL_MS: '200', HEARTBEAT_TIMEOUT_MS: '2000', LOG_LEVEL: 'warn' };
const stacks: ClusterStack[] = [];
const sockets: TestSocket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.ws.terminate();
  await Promise.all(stacks.splice(0).map((s) => s.close()));
});

async function stack(opts: Parameters<typeof clusterStack>[0] = {}): Promise<ClusterStack> {
  const s = await clusterStack({ env: FAST, ...opts });
  stacks.push(s);
  return s;
}

/** A browser session through web server `w`, with its welcome. */
async function browser(s: ClusterStack, w: number) {
  const session = await registerClient(s.webUrls[w]!);
  const socket = await connectBrowser(s.webUrls[w]!, session);
  sockets.push(socket);
  const welcome = await socket.next('welcome');
  return { session, socket, welcome };
}

/** Every `message` data the socket got, in order (seq and data). */
const got = (s: TestSocket) => s.all('message').map((f: Frame) => ({ seq: f.seq as number, n: (f.data as { n: number }).n }));

describe('cluster mode through real processes', () => {
  test('a broker SIGKILLed under traffic: its clients continue with resumed:true, same epoch, every frame once and in order', async () => {
    const s = await stack();
    const agent = await connectRawAgent(s.brokerUrls[1]!);
    sockets.push(agent);
    await agent.next('welcome');
    const browsers = await Promise.all(Array.from({ length: 8 }, (_, i) => browser(s, i % 2)));
    const ids = browsers.map((b) => b.session.clientId);
    const epoch = browsers[0]!.welcome.epoch;
    for (const b of browsers) expect(b.welcome.epoch).toBe(epoch);

    // The agent streams numbered frames to every client while broker 1 (index 0) dies.
    let n = 0;
    const tick = () => agent.send({ type: 'send', to: ids, data: { n: ++n } });
    const timer = setInterval(tick, 20);
    try {
      await new Promise((r) => setTimeout(r, 400));
      await s.brokers[0]!.kill();
      await new Promise((r) => setTimeout(r, 1500));
    } finally {
      clearInterval(timer);
    }
    const last = n;
    // Every client, moved or not, ends with 1..last: each once, in order, seq without gaps.
    for (const b of browsers) {
      await b.socket.next((f: Frame) => f.type === 'message' && (f.data as { n: number }).n === last, 15_000);
      const frames = got(b.socket);
      expect(frames.map((f) => f.n)).toEqual(Array.from({ length: last }, (_, i) => i + 1));
      const seqs = frames.map((f) => f.seq);
      for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBe(seqs[i - 1]! + 1);
      const back = b.socket.all((f: Frame) => f.type === 'system' && f.event === 'bridge.reconnected');
      for (const r of back) expect(r).toMatchObject({ resumed: true, epoch });
    }
    // Rendezvous placement put some of the 8 on the dead broker (all on one: a 2^-8 chance).
    expect(browsers.filter((b) => b.socket.all((f: Frame) => f.event === 'bridge.reconnected').length > 0).length).toBeGreaterThan(0);
  });

  test('every broker restarted: the cluster keeps its epoch and sessions resume; agents redial', async () => {
    const s = await stack({ webServers: 1 });
    let agent = await connectRawAgent(s.brokerUrls[0]!);
    sockets.push(agent);
    await agent.next('welcome');
    const b = await browser(s, 0);
    agent.send({ type: 'send', to: b.session.clientId, data: { n: 1 } });
    await b.socket.next('message');
    await Promise.all(s.brokers.map((p) => p.kill()));
    await Promise.all(s.brokers.map((p) => p.start()));
    const back = await b.socket.event('bridge.reconnected', 20_000);
    expect(back).toMatchObject({ resumed: true, epoch: b.welcome.epoch });
    agent = await connectRawAgent(s.brokerUrls[1]!);
    sockets.push(agent);
    const welcome = await agent.next('welcome');
    expect((welcome.clients as { clientId: string }[]).map((c) => c.clientId)).toContain(b.session.clientId);
    agent.send({ type: 'send', to: b.session.clientId, data: { n: 2 } });
    // agent.disconnected / agent.connected took seqs in between: the message follows them.
    const m2 = await b.socket.next((f: Frame) => f.type === 'message' && (f.data as { n: number }).n === 2, 10_000);
    expect(m2.seq as number).toBeGreaterThan(1);
    expect(got(b.socket).map((f) => f.n)).toEqual([1, 2]);
  });

  test('a web server killed: its browser redials to the other one and resumes', async () => {
    const s = await stack({ brokers: 1 });
    const agent = await connectRawAgent(s.brokerUrls[0]!);
    sockets.push(agent);
    await agent.next('welcome');
    const b = await browser(s, 0);
    agent.send({ type: 'send', to: b.session.clientId, data: { n: 1 } });
    await b.socket.next('message');
    await s.webServers[0]!.kill();
    await b.socket.waitClose(10_000);
    agent.send({ type: 'send', to: b.session.clientId, data: { n: 2 } });
    const again = await connectBrowser(s.webUrls[1]!, b.session, { lastSeq: 1, epoch: b.welcome.epoch as string });
    sockets.push(again);
    expect(await again.next('welcome', 10_000)).toMatchObject({ resumed: true, replayed: 1, epoch: b.welcome.epoch });
    expect(await again.next('message')).toMatchObject({ seq: 2, data: { n: 2 } });
  });

  test('two bridges on one Redis with different prefixes never see each other', async () => {
    const one = await stack({ brokers: 1, webServers: 1 });
    const two = await stack({ brokers: 1, webServers: 1 });
    const b1 = await browser(one, 0);
    await browser(two, 0);
    const agent = await connectRawAgent(two.brokerUrls[0]!);
    sockets.push(agent);
    const welcome = await agent.next('welcome');
    expect((welcome.clients as { clientId: string }[]).map((c) => c.clientId)).not.toContain(b1.session.clientId);
    expect(welcome.clients as unknown[]).toHaveLength(1);
    agent.send({ type: 'send', to: b1.session.clientId, data: 'x' });
    expect(await agent.next('error')).toMatchObject({ code: 'unknown_client' });
  });

  test('a dead broker is noticed: its sessions are announced disconnected once, its agent name waits', async () => {
    const s = await stack({ webServers: 0 });
    const watcher = await connectRawAgent(s.brokerUrls[1]!, { name: 'watcher' });
    sockets.push(watcher);
    await watcher.next('welcome');
    const victimAgent = await connectRawAgent(s.brokerUrls[0]!, { name: 'solo' });
    sockets.push(victimAgent);
    await victimAgent.next('welcome');
    await s.brokers[0]!.kill();
    // A client on the survivor: its message for the dead broker's name waits for a new connection.
    const client = await connectBrowserlessClient(s.brokerUrls[1]!, 'c-solo');
    client.send({ type: 'message', agent: 'solo', data: 'for solo', id: 'q1' });
    expect(await client.next('accepted', 10_000)).toMatchObject({ ref: 'q1' });
    const again = await connectRawAgent(s.brokerUrls[1]!, { name: 'solo' });
    sockets.push(again);
    expect(await again.next('client.message', 10_000)).toMatchObject({ data: 'for solo' });
  });
});

describe('§8 across a broker SIGKILL', () => {
  test('an opted-in agent’s unacknowledged client messages survive its broker’s SIGKILL: redelivered to the name’s next connection', async () => {
    const s = await stack({ webServers: 0 });
    const client = await connectBrowserlessClient(s.brokerUrls[1]!, 'c-ack');
    const { TestSocket: TS } = await import('@agent-bridge/testkit');
    const held = await TS.open(`${s.brokerWsUrls[0]}/ws/agent?acks=1`, { headers: { authorization: 'Bearer dev_token', 'x-agent-name': 'acker' } });
    sockets.push(held);
    const { agentId } = await held.next('welcome');
    for (let i = 1; i <= 3; i++) client.send({ type: 'message', agent: 'acker', id: `k${i}`, data: i });
    for (let i = 1; i <= 3; i++) expect(await client.next('accepted')).toMatchObject({ ref: `k${i}` });
    const got = [await held.next('client.message'), await held.next('client.message'), await held.next('client.message')];
    held.send({ type: 'ack', id: got[0]!.id });
    // The ack has reached Redis (what the connection holds there is down to two) before the kill.
    const redis = createClient({ url: s.redisUrl! });
    await redis.connect();
    try {
      const key = `${s.prefix}:{a:acker}:inflight:${agentId}`;
      await expect.poll(() => redis.hLen(key), { timeout: 5000 }).toBe(2);
    } finally {
      await redis.close();
    }
    await s.brokers[0]!.kill();
    const next = await TS.open(`${s.brokerWsUrls[1]}/ws/agent?acks=1`, { headers: { authorization: 'Bearer dev_token', 'x-agent-name': 'acker' } });
    sockets.push(next);
    await next.next('welcome');
    const again = [await next.next('client.message', 15_000), await next.next('client.message', 15_000)];
    expect(again.map((f) => [f.id, f.data, f.redelivered])).toEqual([
      [got[1]!.id, 2, true],
      [got[2]!.id, 3, true],
    ]);
  });
});

/** A broker client socket as the web server opens it (PROXY_TOKEN of the test env). */
async function connectBrowserlessClient(brokerUrl: string, clientId: string): Promise<TestSocket> {
  const { TestSocket: TS } = await import('@agent-bridge/testkit');
  const sock = await TS.open(`${brokerUrl.replace(/^http/, 'ws')}/ws/client/${clientId}`, { headers: { authorization: `Bearer ${process.env.PROXY_TOKEN ?? 'dev_proxy_token'}` } });
  sockets.push(sock);
  await sock.next('welcome');
  return sock;
}
