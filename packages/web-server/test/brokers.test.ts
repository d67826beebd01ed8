/**
 * A web server with several brokers (BROKER_URL list, PROTOCOL §10): clients spread by rendezvous
 * hash, a client whose broker fails continues on the next broker of its ranking with
 * bridge.reconnecting / bridge.reconnected, /readyz is 503 only when no broker is ready, and a
 * browser upgrade then gets 503 `unavailable`.
 *
 * The brokers here are independent processes' worth of state (no shared store yet), so after a
 * failover the session is new there: `resumed` is true exactly when both brokers report one epoch
 * (the cluster case, where they share state), false otherwise.
 */
import { connectBrowser, connectRawAgent, registerClient, type Frame, type TestSocket } from '@agent-bridge/testkit';
import { describe, expect, it } from 'vitest';
import { BrokerPool } from '../src/upstream/broker-pool.ts';
import { pipeFixture, rawRequest } from './helpers.ts';

const fx = pipeFixture();

type Broker = Awaited<ReturnType<typeof fx.broker>>;

/** Two brokers, each behind a TCP proxy (to cut), each with a raw agent; a web server on both. */
async function twoBrokers(env: Record<string, string> = {}) {
  const brokers: Broker[] = [await fx.broker(), await fx.broker()];
  const proxies = [await fx.proxyTo(brokers[0]!.port), await fx.proxyTo(brokers[1]!.port)];
  const urls = proxies.map((p) => `ws://127.0.0.1:${p.port}`);
  const agents: TestSocket[] = [];
  for (const b of brokers) {
    const a = fx.track(await connectRawAgent(b.url));
    await a.next('welcome');
    agents.push(a);
  }
  const w = await fx.web(urls.join(','), env, { brokerPollMs: 100 });
  return { brokers, proxies, urls, agents, w };
}

const connectedAt = (agent: TestSocket, clientId: string) =>
  agent.frames.some((f) => f.type === 'system' && f.event === 'client.connected' && f.clientId === clientId);

/** Which broker (index) holds this client's upstream now, by its agent's client.connected. */
async function brokerOf(agents: TestSocket[], clientId: string): Promise<number> {
  await expect.poll(() => agents.findIndex((a) => connectedAt(a, clientId)), { timeout: 5000 }).toBeGreaterThanOrEqual(0);
  return agents.findIndex((a) => connectedAt(a, clientId));
}

describe('placement', () => {
  it('spreads clients over the brokers by clientId, and a reconnecting browser returns to its broker', async () => {
    const { agents, w, urls } = await twoBrokers();
    const pool = new BrokerPool({ urls });
    const sessions = await Promise.all(Array.from({ length: 12 }, () => registerClient(w.url)));
    const on: number[] = [];
    const browsers: TestSocket[] = [];
    for (const s of sessions) {
      const b = fx.track(await connectBrowser(w.url, s));
      await b.next('welcome');
      browsers.push(b);
      on.push(await brokerOf(agents, s.clientId));
      // Its broker is the first of its rendezvous ranking (both are ready).
      expect(urls[on.at(-1)!]).toBe(pool.ranking(s.clientId)[0]);
    }
    expect(new Set(on).size).toBe(2);

    // A browser that drops and comes back lands on the same broker.
    const s = sessions[0]!;
    const agent = agents[on[0]!]!;
    const event = (name: string) => (f: Frame) => f.type === 'system' && f.event === name && f.clientId === s.clientId;
    await agent.next(event('client.connected'));
    browsers[0]!.ws.terminate();
    await agent.next(event('client.disconnected'));
    const again = fx.track(await connectBrowser(w.url, s));
    await again.next('welcome');
    expect(await agent.next(event('client.connected'))).toMatchObject({ clientId: s.clientId });
    expect(agents[1 - on[0]!]!.frames.some((f) => f.clientId === s.clientId)).toBe(false);
  });

  it('GET /api/ops shows every broker, and one that is down as unreachable', async () => {
    const OPS_TOKEN = 'ops-token-0123456789abcdef';
    const { proxies, w } = await twoBrokers({ OPS_TOKEN });
    const ops = async () => (await fetch(`${w.url}/api/ops`, { headers: { authorization: `Bearer ${OPS_TOKEN}` } })).json() as Promise<any>;
    const all = await ops();
    expect(all.nodes.map((n: { service: string }) => n.service).sort()).toEqual(['broker', 'broker', 'web']);
    expect(all).toMatchObject({ cluster: true, unreachable: [] });
    proxies[1]!.block();
    proxies[1]!.cut();
    const one = await ops();
    expect(one.nodes).toHaveLength(2);
    expect(one.unreachable).toEqual([{ node: `127.0.0.1:${proxies[1]!.port}`, error: expect.any(String) }]);
  });

  it('/healthz names the node (NODE_ID)', async () => {
    const { w } = await twoBrokers({ NODE_ID: 'web-a' });
    expect((await rawRequest(w.url, '/healthz')).json()).toMatchObject({ status: 'ok', nodeId: 'web-a' });
  });
});

describe('failover', () => {
  async function failOver(kill: (index: number, ctx: Awaited<ReturnType<typeof twoBrokers>>) => Promise<void>) {
    const ctx = await twoBrokers();
    const { brokers, agents, w } = ctx;
    const session = await registerClient(w.url);
    const browser = fx.track(await connectBrowser(w.url, session));
    await browser.next('welcome');
    const i = await brokerOf(agents, session.clientId);
    const other = 1 - i;
    agents[i]!.send({ type: 'send', to: session.clientId, data: 'before' });
    expect(await browser.next('message')).toMatchObject({ data: 'before' });

    await kill(i, ctx);
    expect(await browser.event('bridge.reconnecting')).toMatchObject({ retryInMs: expect.any(Number) });
    browser.send({ type: 'message', id: 'during', data: 'held while reconnecting' });
    const back = await browser.event('bridge.reconnected', 10_000);
    expect(back).toMatchObject({ epoch: brokers[other]!.epoch, resumed: brokers[other]!.epoch === brokers[i]!.epoch, lastSeq: expect.any(Number) });
    expect(browser.closed).toBeUndefined();
    expect(browser.frames.filter((f) => f.type === 'welcome')).toHaveLength(1);

    // Both ways on the other broker: the held frame first, then new ones.
    const fromBrowser = (f: Frame) => f.type === 'client.message' && f.clientId === session.clientId;
    expect(await agents[other]!.next(fromBrowser)).toMatchObject({ ref: 'during' });
    browser.send({ type: 'message', id: 'after', data: 'after' });
    expect(await agents[other]!.next(fromBrowser)).toMatchObject({ ref: 'after' });
    agents[other]!.send({ type: 'send', to: session.clientId, data: 'from the other broker' });
    const msg = await browser.next('message');
    expect(msg).toMatchObject({ data: 'from the other broker' });
    expect(msg.seq as number).toBeGreaterThan(back.lastSeq as number);
  }

  it('a broker that shuts down: its client continues on the other broker', async () => {
    await failOver(async (i, { brokers }) => {
      await brokers[i]!.close();
    });
  });

  it('a broker that vanishes (connections cut, new ones refused): its client continues on the other broker', async () => {
    await failOver(async (i, { proxies }) => {
      proxies[i]!.block();
      proxies[i]!.cut();
    });
  });
});

describe('readiness', () => {
  it('/readyz stays 200 with one of two brokers down, 503 broker_unreachable with both; upgrades then get 503 unavailable', async () => {
    const { proxies, w } = await twoBrokers();
    expect((await rawRequest(w.url, '/readyz')).status).toBe(200);
    proxies[0]!.block();
    proxies[0]!.cut();
    // Probes run every 100 ms and are remembered for 1 s: wait past both.
    await new Promise((r) => setTimeout(r, 1200));
    expect((await rawRequest(w.url, '/readyz')).status).toBe(200);
    // A new browser is placed on the broker that is up, whatever its ranking.
    const session = await registerClient(w.url);
    const ok = fx.track(await connectBrowser(w.url, session));
    await ok.next('welcome');

    proxies[1]!.block();
    proxies[1]!.cut();
    await expect
      .poll(async () => (await rawRequest(w.url, '/readyz')).status, { timeout: 5000, interval: 200 })
      .toBe(503);
    expect((await rawRequest(w.url, '/readyz')).json()).toMatchObject({ status: 'unavailable', reasons: ['broker_unreachable'] });
    const refused = await registerClient(w.url);
    await expect(connectBrowser(w.url, refused)).rejects.toMatchObject({ status: 503 });
    // The SPA's way to learn why: the same answer.
    const check = await fetch(`${w.url}/api/ws-check`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(refused) });
    expect(check.status).toBe(503);
    expect(await check.json()).toMatchObject({ error: { code: 'unavailable' } });

    proxies[1]!.unblock();
    await expect.poll(async () => (await rawRequest(w.url, '/readyz')).status, { timeout: 5000, interval: 200 }).toBe(200);
  });
});
