/**
 * A sign-in seen from the other end: a real broker, a real web server, a raw agent socket on the
 * broker and a browser socket through the web server. The upgrade (and the sign-out) must reach
 * the agent at once, on the live session, without the browser reconnecting.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Wallet, type HDNodeWallet } from 'ethers';
import { connectBrowser, connectRawAgent, registerClient, type Session, type TestSocket } from '@agent-bridge/testkit';
import type { WebServer } from '../src/index.ts';
import { startTestBroker, startWeb } from './helpers.ts';

let broker: Awaited<ReturnType<typeof startTestBroker>>;
let web: WebServer;
let agent: TestSocket;
const sockets: TestSocket[] = [];

beforeAll(async () => {
  broker = await startTestBroker();
  web = await startWeb({ BROKER_URL: broker.wsUrl });
  agent = await connectRawAgent(broker.url);
  await agent.next('welcome');
});
afterAll(async () => {
  for (const s of sockets) s.close();
  agent?.close();
  await web?.close();
  await broker?.close();
});

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(web.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

async function signIn(wallet: HDNodeWallet, session?: Session) {
  const res = await fetch(`${web.url}/auth/challenge?address=${wallet.address}`);
  const { message } = (await res.json()) as { message: string };
  const signature = await wallet.signMessage(message);
  return post('/auth/verify', { message, signature, ...(session ? { clientId: session.clientId, token: session.token } : {}) });
}

const isFor = (clientId: string, type: string, event?: string) => (f: Record<string, unknown>) =>
  f.type === type && f.clientId === clientId && (event === undefined || f.event === event);

async function connected(session: Session, opts?: Parameters<typeof connectBrowser>[2]) {
  const browser = await connectBrowser(web.url, session, opts);
  sockets.push(browser);
  const welcome = await browser.next('welcome');
  return { browser, welcome };
}

let n = 0;
async function say(browser: TestSocket, clientId: string) {
  const id = `c-${++n}`;
  browser.send({ type: 'message', id, data: { text: id } });
  return agent.next((f) => f.type === 'client.message' && f.clientId === clientId && f.ref === id);
}

describe('live upgrade', () => {
  test('sign-in reaches the agent at once: client.authenticated, then address on every client.message', async () => {
    const session = await registerClient(web.url);
    const { browser, welcome } = await connected(session);
    expect(welcome.address ?? null).toBeNull();
    expect((await agent.next(isFor(session.clientId, 'system', 'client.connected'))).address).toBeNull();
    expect((await say(browser, session.clientId)).address).toBeNull();

    const wallet = Wallet.createRandom();
    const v = await signIn(wallet, session);
    expect(v.status).toBe(200);
    expect(v.body.clientId).toBe(session.clientId);
    const auth = await agent.next(isFor(session.clientId, 'system', 'client.authenticated'));
    expect(auth.address).toBe(wallet.address); // EIP-55
    expect((await say(browser, session.clientId)).address).toBe(wallet.address);
    expect(browser.closed).toBeUndefined(); // the same socket, no reconnect

    // Sign-out: the agent is told, later messages are anonymous again.
    const out = await post('/auth/signout', undefined, { authorization: `Bearer ${v.body.token}` });
    expect(out.status).toBe(200);
    expect(out.body).toMatchObject({ clientId: session.clientId, address: null });
    await agent.next(isFor(session.clientId, 'system', 'client.signed_out'));
    expect((await say(browser, session.clientId)).address).toBeNull();
  });

  test('the signed-in token carries the address into a reconnect', async () => {
    const session = await registerClient(web.url);
    const { browser } = await connected(session);
    await agent.next(isFor(session.clientId, 'system', 'client.connected'));
    const wallet = Wallet.createRandom();
    const v = await signIn(wallet, session);
    await agent.next(isFor(session.clientId, 'system', 'client.authenticated'));
    browser.ws.terminate();
    await agent.next(isFor(session.clientId, 'system', 'client.disconnected'));

    const upgraded: Session = { clientId: session.clientId, token: v.body.token, expiresAt: v.body.expiresAt };
    const again = await connected(upgraded);
    expect(again.welcome.address).toBe(wallet.address);
    const back = await agent.next(isFor(session.clientId, 'system', 'client.connected'));
    expect(back.address).toBe(wallet.address);
    expect((await say(again.browser, session.clientId)).address).toBe(wallet.address);
  });

  test('signing in before the socket connects: 200, and the first connection already has the address', async () => {
    const session = await registerClient(web.url);
    const wallet = Wallet.createRandom();
    const v = await signIn(wallet, session);
    expect(v.status).toBe(200);
    expect(v.body.clientId).toBe(session.clientId);
    const { browser } = await connected({ ...session, token: v.body.token });
    expect((await agent.next(isFor(session.clientId, 'system', 'client.connected'))).address).toBe(wallet.address);
    expect((await say(browser, session.clientId)).address).toBe(wallet.address);
  });

  test('sign-in without a session gives a new clientId whose connection carries the address', async () => {
    const wallet = Wallet.createRandom();
    const v = await signIn(wallet);
    expect(v.status).toBe(200);
    const { browser, welcome } = await connected({ clientId: v.body.clientId, token: v.body.token, expiresAt: v.body.expiresAt });
    expect(welcome.address).toBe(wallet.address);
    expect((await say(browser, v.body.clientId)).address).toBe(wallet.address);
  });
});

describe('broker unreachable', () => {
  test('an upgrade that cannot be told to the broker is 503 broker_unavailable, not a silent half sign-in', async () => {
    const lonely = await startWeb({ BROKER_URL: 'ws://127.0.0.1:1' });
    try {
      const reg = await fetch(`${lonely.url}/api/clients`, { method: 'POST' });
      const session = (await reg.json()) as Session;
      const wallet = Wallet.createRandom();
      const c = (await (await fetch(`${lonely.url}/auth/challenge?address=${wallet.address}`)).json()) as { message: string };
      const signature = await wallet.signMessage(c.message);
      const res = await fetch(`${lonely.url}/auth/verify`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ message: c.message, signature, clientId: session.clientId, token: session.token }),
      });
      expect(res.status).toBe(503);
      expect(((await res.json()) as any).error.code).toBe('broker_unavailable');
      const out = await fetch(`${lonely.url}/auth/signout`, { method: 'POST', headers: { authorization: `Bearer ${session.token}` } });
      expect(out.status).toBe(503);
    } finally {
      await lonely.close();
    }
  });
});

/**
 * The broker takes the address each upstream arrival announces; after a live sign-out the pipe
 * must announce null on its redial, or a signed-out wallet would be announced again.
 */
describe('identity across an upstream redial', () => {
  test('a live sign-out survives a broker restart (the old address is not re-announced)', async () => {
    let own = await startTestBroker();
    const port = own.port;
    const w = await startWeb({ BROKER_URL: own.wsUrl }, { backoff: { initialMs: 50, maxMs: 100 } });
    try {
      const wallet = Wallet.createRandom();
      const c = (await (await fetch(`${w.url}/auth/challenge?address=${wallet.address}`)).json()) as { message: string };
      const v = (await (
        await fetch(`${w.url}/auth/verify`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ message: c.message, signature: await wallet.signMessage(c.message) }),
        })
      ).json()) as Session;
      const browser = await connectBrowser(w.url, v);
      sockets.push(browser);
      await browser.next('welcome');
      const out = await fetch(`${w.url}/auth/signout`, { method: 'POST', headers: { authorization: `Bearer ${v.token}` } });
      expect(out.status).toBe(200);

      await own.close();
      own = await startTestBroker({ WEBSOCKET_SERVER_ADDR: `127.0.0.1:${port}` });
      const watcher = await connectRawAgent(own.url);
      sockets.push(watcher);
      await watcher.next('welcome');
      const back = await watcher.next(isFor(v.clientId, 'system', 'client.connected'));
      expect(back.address).toBeNull();
    } finally {
      await w.close();
      await own.close();
    }
  });
});
