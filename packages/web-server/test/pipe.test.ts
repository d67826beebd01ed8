/** The pipe through a real web server to a real in-process broker, with raw sockets as browser and agent. */
import jwt from 'jsonwebtoken';
import { connectBrowser, connectRawAgent, registerClient, TestSocket, type Frame } from '@agent-bridge/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { WebServer } from '../src/index.ts';
import { JWT_SECRET, makeSite, startTestBroker, startWeb, type TempSite } from './helpers.ts';

let site: TempSite;
let web: WebServer;
let broker: Awaited<ReturnType<typeof startTestBroker>>;
const sockets: TestSocket[] = [];

const track = <T extends TestSocket>(s: T): T => {
  sockets.push(s);
  return s;
};
const event = (name: string, clientId: string) => (f: Frame) => f.type === 'system' && f.event === name && f.clientId === clientId;

beforeAll(async () => {
  site = makeSite();
  broker = await startTestBroker({ HEARTBEAT_INTERVAL_MS: '100', HEARTBEAT_TIMEOUT_MS: '3000', SESSION_TTL_MS: '10000' });
  web = await startWeb(
    { STATIC_ASSETS_PATH: site.root, BROKER_URL: broker.wsUrl, MAX_MESSAGE_BYTES: '2048', HEARTBEAT_INTERVAL_MS: '100', HEARTBEAT_TIMEOUT_MS: '3000' },
    { backoff: { initialMs: 100, maxMs: 400 } },
  );
});
afterEach(() => {
  for (const s of sockets.splice(0)) s.ws.terminate();
});
afterAll(async () => {
  await web?.close();
  await broker?.close();
  site?.remove();
});

async function agentAndBrowser(token?: { addr: string }) {
  const agent = track(await connectRawAgent(broker.url));
  await agent.next('welcome');
  let session = await registerClient(web.url);
  if (token) {
    const signed = jwt.sign({ addr: token.addr }, JWT_SECRET, {
      subject: session.clientId, issuer: 'agent-bridge', audience: 'agent-bridge-session', expiresIn: 60,
    });
    session = { ...session, token: signed };
  }
  const browser = track(await connectBrowser(web.url, session));
  const welcome = await browser.next('welcome');
  const connected = await agent.next(event('client.connected', session.clientId));
  return { agent, browser, session, welcome, connected };
}

describe('piping', () => {
  it('carries a browser message to the agent and the reply back, unchanged', async () => {
    const { agent, browser, session, welcome } = await agentAndBrowser();
    expect(welcome).toMatchObject({ type: 'welcome', clientId: session.clientId, epoch: broker.epoch, resumed: false, lastSeq: 0 });
    browser.send({ type: 'message', id: 'c-1', data: { text: 'hello' } });
    const got = await agent.next('client.message');
    expect(got).toMatchObject({ clientId: session.clientId, ref: 'c-1', address: null, data: { text: 'hello' } });
    agent.send({ type: 'send', id: 'a-1', to: session.clientId, data: { text: 'hi' } });
    const reply = await browser.next('message');
    expect(reply).toMatchObject({ seq: 1, from: 'default', data: { text: 'hi' } });
    // Validation is the broker's: its error comes back through the pipe.
    browser.send({ type: 'nonsense', id: 'c-2' });
    expect(await browser.next('error')).toMatchObject({ code: 'invalid_message', ref: 'c-2' });
  });

  it('passes accepted=inline on to the broker: accepteds ride on the replies, whole, to the browser', async () => {
    const agent = track(await connectRawAgent(broker.url));
    await agent.next('welcome');
    const session = await registerClient(web.url);
    const browser = track(await connectBrowser(web.url, session, { acceptedInline: true }));
    await browser.next('welcome');
    const ids = Array.from({ length: 8 }, (_, i) => `c-${i + 1}`);
    for (const id of ids) {
      browser.send({ type: 'message', id, data: id });
      await agent.next((f) => f.type === 'client.message' && f.ref === id);
      agent.send({ type: 'send', to: session.clientId, data: id });
      await browser.next((f) => f.type === 'message' && f.data === id);
    }
    // Each id accepted once: riding on a reply (within the hold, most of them) or alone.
    const carried = browser.all('message').flatMap((f) => (f.accepted as string[] | undefined) ?? []);
    const alone = browser.all('accepted').map((f) => f.ref);
    expect([...carried, ...alone].sort()).toEqual([...ids].sort());
    expect(carried.length).toBeGreaterThan(0);
  });

  it("sends the token's address to the broker (X-Client-Address)", async () => {
    const addr = '0xAbC0000000000000000000000000000000000001';
    const { agent, browser, connected } = await agentAndBrowser({ addr });
    expect(connected).toMatchObject({ address: addr });
    browser.send({ type: 'message', data: 1 });
    expect(await agent.next('client.message')).toMatchObject({ address: addr });
  });

  it('closes a browser frame over MAX_MESSAGE_BYTES with 1009', async () => {
    const { browser } = await agentAndBrowser();
    browser.send({ type: 'message', data: 'x'.repeat(3000) });
    expect((await browser.waitClose()).code).toBe(1009);
  });

  it('answers a binary frame with invalid_json and keeps the socket open', async () => {
    const { agent, browser } = await agentAndBrowser();
    browser.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect(await browser.next('error')).toMatchObject({ code: 'invalid_json' });
    browser.send({ type: 'message', id: 'after', data: 2 });
    expect(await agent.next('client.message')).toMatchObject({ ref: 'after' });
  });

  it('passes the broker 4500 on to the older browser when the same clientId connects twice', async () => {
    const { agent, browser, session } = await agentAndBrowser();
    const second = track(await connectBrowser(web.url, session));
    await second.next('welcome');
    expect(await browser.waitClose()).toMatchObject({ code: 4500 });
    // The session goes on in the second socket.
    second.send({ type: 'message', id: 'second', data: 3 });
    expect(await agent.next('client.message')).toMatchObject({ ref: 'second', clientId: session.clientId });
    expect(agent.frames.some((f) => event('client.disconnected', session.clientId)(f))).toBe(false);
  });

  it('ends the session when the browser closes with 1000', async () => {
    const { agent, browser, session } = await agentAndBrowser();
    browser.close(1000);
    expect(await agent.next(event('client.disconnected', session.clientId))).toMatchObject({ resumable: false });
    await agent.next(event('client.expired', session.clientId));
  });

  it('keeps the session resumable when the browser drops', async () => {
    const { agent, browser, session } = await agentAndBrowser();
    agent.send({ type: 'send', to: session.clientId, data: 'one' });
    await browser.next('message');
    browser.ws.terminate();
    expect(await agent.next(event('client.disconnected', session.clientId))).toMatchObject({ resumable: true });
    agent.send({ type: 'send', to: session.clientId, data: 'while away' });
    const back = track(await connectBrowser(web.url, session, { lastSeq: 1, epoch: broker.epoch }));
    expect(await back.next('welcome')).toMatchObject({ resumed: true, replayed: 1 });
    expect(await back.next('message')).toMatchObject({ seq: 2, data: 'while away' });
    expect(agent.frames.some((f) => event('client.expired', session.clientId)(f))).toBe(false);
  });

  it('releases the upstream when the browser goes (no leaked sessions or sockets)', async () => {
    const clients = async () => ((await (await fetch(`${web.url}/healthz`)).json()) as { clients: number }).clients;
    const upstreams = async () => Number(/^agent_bridge_connections\{kind="upstream"\} (\d+)/m.exec(await (await fetch(`${web.url}/metrics`)).text())?.[1]);
    // Sockets of earlier tests are still closing.
    await expect.poll(async () => [await clients(), await upstreams()], { timeout: 5000 }).toEqual([0, 0]);
    const { browser } = await agentAndBrowser();
    expect(await clients()).toBe(1);
    expect(await upstreams()).toBe(1);
    browser.close(1000);
    await browser.waitClose();
    await expect.poll(async () => [await clients(), await upstreams()], { timeout: 3000 }).toEqual([0, 0]);
  });
});

describe('browser heartbeat', () => {
  it('terminates a browser that stops answering pings, and the session stays resumable', async () => {
    const fast = await startWeb(
      { STATIC_ASSETS_PATH: site.root, BROKER_URL: broker.wsUrl, HEARTBEAT_INTERVAL_MS: '50', HEARTBEAT_TIMEOUT_MS: '200' },
      { backoff: { initialMs: 100 } },
    );
    try {
      const agent = track(await connectRawAgent(broker.url));
      await agent.next('welcome');
      const session = await registerClient(fast.url);
      const url = `${fast.url.replace(/^http/, 'ws')}/ws/${session.clientId}?token=${session.token}`;
      const silent = track(await TestSocket.open(url, { autoPong: false }));
      await silent.next('welcome');
      const started = Date.now();
      const closed = await silent.waitClose(3000);
      expect(closed.code).toBe(1006);
      expect(Date.now() - started).toBeLessThan(2000);
      expect(await agent.next(event('client.disconnected', session.clientId))).toMatchObject({ resumable: true });

      // A browser that answers pings stays up well past the timeout.
      const live = track(await connectBrowser(fast.url, await registerClient(fast.url)));
      await live.next('welcome');
      await new Promise((r) => setTimeout(r, 500));
      expect(live.closed).toBeUndefined();
    } finally {
      await fast.close();
    }
  });
});

describe('bad browser input', () => {
  it('closes a text frame that is not UTF-8 (1007) and keeps serving', async () => {
    const { agent, browser } = await agentAndBrowser();
    browser.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    expect((await browser.waitClose()).code).toBe(1007);
    const other = track(await connectBrowser(web.url, await registerClient(web.url)));
    await other.next('welcome');
    other.send({ type: 'message', id: 'still', data: 1 });
    expect(await agent.next('client.message')).toMatchObject({ ref: 'still' });
  });
});

describe('BrokerIdentityClient', () => {
  it('upgrades a live session (agents see client.authenticated), knows unknown clients, and reports an unreachable or refusing broker', async () => {
    const { BrokerIdentityClient } = await import('../src/index.ts');
    const { silentLogger } = await import('./helpers.ts');
    const identity = new BrokerIdentityClient({ brokerUrl: broker.wsUrl, proxyToken: 'dev_proxy_token', logger: silentLogger() });
    const { agent, browser, session } = await agentAndBrowser();
    const addr = '0xAbC0000000000000000000000000000000000001';
    expect(await identity.setAddress(session.clientId, addr)).toBe('ok');
    expect(await agent.next(event('client.authenticated', session.clientId))).toMatchObject({ address: addr });
    browser.send({ type: 'message', id: 'signed', data: 1 });
    expect(await agent.next('client.message')).toMatchObject({ ref: 'signed', address: addr });
    expect(await identity.setAddress('no-such-client', addr)).toBe('unknown_client');

    const wrongToken = new BrokerIdentityClient({ brokerUrl: broker.wsUrl, proxyToken: 'nope', logger: silentLogger() });
    expect(await wrongToken.setAddress(session.clientId, null)).toBe('unavailable');
    const nowhere = new BrokerIdentityClient({ brokerUrl: 'ws://127.0.0.1:1', proxyToken: 'dev_proxy_token', logger: silentLogger() });
    expect(await nowhere.setAddress(session.clientId, null)).toBe('unavailable');
  });
});
