/**
 * PROTOCOL §8 through real processes (single-process mode): resends after a reconnect are
 * accepted again and delivered once (client and agent, and from a new connection of the agent
 * name), unacknowledged messages of a SIGKILLed SDK agent are redelivered in order before newer
 * ones, v1 agents get no redelivery, and the SDK and browser client use it all by default.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { createBridgeClient, type BridgeClient, type WebSocketConstructor } from '../../browser-client/src/index.ts';
import { connectBrowser, registerClient, ServiceProcess, startStack, TestSocket, type Stack } from '@agent-bridge/testkit';
import { resumePoint, texts } from './helpers.ts';

let stack: Stack;
const procs: ServiceProcess[] = [];
const sockets: TestSocket[] = [];
const clients: BridgeClient[] = [];

beforeAll(async () => {
  stack = await startStack({ agent: true, env: { HEARTBEAT_INTERVAL_MS: '100', HEARTBEAT_TIMEOUT_MS: '800', SESSION_TTL_MS: '15000' } });
}, 30_000);
afterEach(async () => {
  for (const s of sockets.splice(0)) s.ws.terminate();
  for (const c of clients.splice(0)) c.close();
  await Promise.all(procs.splice(0).map((p) => p.stop('SIGKILL').catch(() => undefined)));
});
afterAll(() => stack?.close());

const track = <T extends TestSocket>(s: T): T => (sockets.push(s), s);

async function browser(lastSeqFrom?: TestSocket, session?: { clientId: string; token: string; expiresAt: string }) {
  const s = session ?? (await registerClient(stack.webUrl));
  const ws = track(await connectBrowser(stack.webUrl, s, lastSeqFrom ? resumePoint(lastSeqFrom) : {}));
  const welcome = await ws.next('welcome');
  return { ws, session: s, welcome };
}

async function rawAgent(name: string, acks = false) {
  const url = `${stack.brokerWsUrl}/ws/agent${acks ? '?acks=1' : ''}`;
  const a = track(await TestSocket.open(url, { headers: { authorization: 'Bearer dev_token', 'x-agent-name': name } }));
  const welcome = await a.next('welcome');
  return Object.assign(a, { welcome });
}

async function metric(line: RegExp): Promise<number> {
  const text = await (await fetch(`${stack.brokerUrl}/metrics`)).text();
  const m = text.split('\n').find((l) => line.test(l));
  return m ? Number(m.split(' ').pop()) : 0;
}

describe('resend after a reconnect', () => {
  test('client: a message resent from a new socket (no accepted seen) is accepted again and reaches the agent once', async () => {
    const agent = await rawAgent('dedupe-c');
    const { ws, session } = await browser();
    ws.send({ type: 'message', id: 'c-1', agent: 'dedupe-c', data: { text: 'once' } });
    expect(await ws.next('accepted')).toEqual({ type: 'accepted', ref: 'c-1' });
    ws.ws.terminate(); // as if the accepted had been lost with the socket
    const again = await browser(ws, session);
    again.ws.send({ type: 'message', id: 'c-1', agent: 'dedupe-c', data: { text: 'once' } });
    again.ws.send({ type: 'message', id: 'c-2', agent: 'dedupe-c', data: { text: 'marker' } });
    expect((await again.ws.next('accepted')).ref).toBe('c-1');
    await agent.next((f) => f.type === 'client.message' && f.ref === 'c-2');
    expect(agent.all('client.message').map((f) => f.ref)).toEqual(['c-1', 'c-2']);
  });

  test('agent: a send resent after its redial, and by another connection of the name, is accepted again and delivered once', async () => {
    const { ws, session } = await browser();
    const a1 = await rawAgent('dedupe-a');
    a1.send({ type: 'send', id: 'a-1', to: session.clientId, data: { text: 'hello' } });
    expect(await a1.next('accepted')).toEqual({ type: 'accepted', ref: 'a-1' });
    // A second connection of the same name, while the first is still up, resends it.
    const a2 = await rawAgent('dedupe-a');
    a2.send({ type: 'send', id: 'a-1', to: session.clientId, data: { text: 'hello' } });
    expect(await a2.next('accepted')).toEqual({ type: 'accepted', ref: 'a-1' });
    // The first redials (a new socket) and resends it too.
    a1.ws.terminate();
    const a3 = await rawAgent('dedupe-a');
    a3.send({ type: 'send', id: 'a-1', to: session.clientId, data: { text: 'hello' } });
    a3.send({ type: 'send', id: 'a-2', to: session.clientId, data: { text: 'marker' } });
    expect((await a3.next('accepted')).ref).toBe('a-1');
    await ws.next((f) => f.type === 'message' && f.data.text === 'marker');
    expect(texts(ws.all('message'))).toEqual(['hello', 'marker']);
  });
});

describe('agent redelivery', () => {
  test('after an SDK agent is SIGKILLed, its unacknowledged messages go to the next connection in order, redelivered, before newer ones', async () => {
    const name = 'holder';
    const proc = new ServiceProcess({
      name: 'holding-agent',
      entry: 'packages/e2e/test/fixtures/holding-agent.ts',
      env: { BROKER_URL: stack.brokerWsUrl, AGENT_NAME: name },
      readyLine: /connected/,
    });
    procs.push(proc);
    await proc.start();
    const { ws } = await browser();
    ws.send({ type: 'message', id: 'c-1', agent: name, data: { text: 'done' } });
    for (const n of [2, 3, 4]) ws.send({ type: 'message', id: `c-${n}`, agent: name, data: { text: `hold ${n}` } });
    await ws.next((f) => f.type === 'message' && f.data.text === 'got hold 4', 10_000);
    await proc.kill();
    ws.send({ type: 'message', id: 'c-5', agent: name, data: { text: 'newer' } });
    await ws.next((f) => f.type === 'accepted' && f.ref === 'c-5');
    const next = await rawAgent(name, true);
    const got = [];
    for (let i = 0; i < 4; i++) got.push(await next.next('client.message', 10_000));
    expect(got.map((f) => [f.ref, f.redelivered])).toEqual([
      ['c-2', true],
      ['c-3', true],
      ['c-4', true],
      ['c-5', undefined],
    ]);
    expect(await metric(/^agent_bridge_frames_redelivered_total /)).toBeGreaterThanOrEqual(3);
  });

  test('no redelivery for v1 agents (no opt-in): what their socket got counts as delivered', async () => {
    const v1 = await rawAgent('plain');
    expect(v1.welcome.acks).toBeUndefined();
    const { ws } = await browser();
    ws.send({ type: 'message', id: 'c-1', agent: 'plain', data: { text: 'one' } });
    await v1.next('client.message');
    v1.ws.terminate();
    await ws.event('agent.disconnected', 5000);
    const next = await rawAgent('plain', true);
    ws.send({ type: 'message', id: 'c-2', agent: 'plain', data: { text: 'two' } });
    const m = await next.next('client.message');
    expect(m.ref).toBe('c-2');
    expect(next.all('client.message')).toHaveLength(1);
  });
});

test('the SDK (demo agent) and the browser client use acks by default, with no change to user code', async () => {
  const before = await metric(/^agent_bridge_frames_accepted_total\{from="agent"\}/);
  const c = createBridgeClient({ baseUrl: stack.webUrl, storage: null, WebSocketImpl: WebSocket as unknown as WebSocketConstructor });
  clients.push(c);
  const accepted: string[] = [];
  c.on('accepted', (a) => accepted.push(a.ref));
  const reply = new Promise<unknown>((resolve) => c.on('message', (m) => resolve(m.data)));
  const id = c.send({ text: 'echo by default' });
  expect(await reply).toEqual({ text: 'by default' });
  await expect.poll(() => accepted).toEqual([id]);
  expect(c.pending).toBe(0);
  // The demo agent's reply was a send with an id, accepted by the broker.
  await expect.poll(() => metric(/^agent_bridge_frames_accepted_total\{from="agent"\}/)).toBeGreaterThan(before);
});
