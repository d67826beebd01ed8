// §8 with the real broker (in process): the SDK acknowledges by default, and what an agent got
// but never finished handling is redelivered to the next agent of the name.
import { randomUUID } from 'node:crypto';
import { afterEach, expect, test } from 'vitest';
import { loadConfig } from '@agent-bridge/common';
import { startBroker } from '@agent-bridge/websocket-server';
import { TestSocket } from '@agent-bridge/testkit';
import { connectAgent, type Agent, type ClientMessageEvent, type ConnectAgentOptions } from '../src/index.ts';
import { FAST_BACKOFF, nextEvent, silent } from './helpers.ts';

const cleanup: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
});

async function broker() {
  const b = await startBroker(
    loadConfig({ WEBSOCKET_SERVER_ADDR: '127.0.0.1:0', LOG_LEVEL: 'silent', HEARTBEAT_INTERVAL_MS: '50', HEARTBEAT_TIMEOUT_MS: '300', SESSION_TTL_MS: '5000' }),
    { logger: silent },
  );
  cleanup.push(() => b.close());
  return b;
}

async function agentAt(url: string, over: Partial<ConnectAgentOptions> = {}): Promise<Agent> {
  const agent = connectAgent({ url, token: 'dev_token', logger: silent, heartbeatTimeoutMs: 300, backoff: FAST_BACKOFF, ...over });
  cleanup.push(() => agent.close());
  await nextEvent(agent, 'welcome');
  return agent;
}

async function client(b: { wsUrl: string }): Promise<TestSocket & { id: string }> {
  const id = randomUUID();
  const ws = await TestSocket.open(`${b.wsUrl}/ws/client/${id}`, { headers: { Authorization: 'Bearer dev_proxy_token' } });
  cleanup.push(() => ws.close(1000));
  await ws.next('welcome');
  return Object.assign(ws, { id });
}

test('by default: sends are accepted (pending drops to 0), and a message whose handler never finished goes to the next agent, redelivered', async () => {
  const b = await broker();
  const c = await client(b);
  const first = await agentAt(b.wsUrl, { name: 'worker' });
  const started: string[] = [];
  first.on('message', async (m) => {
    started.push(m.id);
    if ((m.data as { text: string }).text === 'done') return;
    await new Promise(() => undefined); // never settles: never acknowledged
  });
  c.send({ type: 'message', id: 'c-1', agent: 'worker', data: { text: 'done' } });
  c.send({ type: 'message', id: 'c-2', agent: 'worker', data: { text: 'stuck' } });
  await expect.poll(() => started.length).toBe(2);
  first.send(c.id, { text: 'reply' });
  await expect.poll(() => first.pending).toBe(0);
  await first.close();
  // Listening before the welcome: the redelivery follows it at once.
  const second = connectAgent({ url: b.wsUrl, token: 'dev_token', logger: silent, name: 'worker', backoff: FAST_BACKOFF });
  cleanup.push(() => second.close());
  const [again] = (await nextEvent(second, 'message')) as [ClientMessageEvent];
  expect(again).toMatchObject({ id: started[1], redelivered: true, data: { text: 'stuck' } });
  // The first message was acknowledged: only the stuck one came again (a marker shows nothing else).
  c.send({ type: 'message', id: 'c-3', agent: 'worker', data: { text: 'marker' } });
  const [marker] = await nextEvent(second, 'message');
  expect(marker.data).toEqual({ text: 'marker' });
  expect(marker.redelivered).toBeUndefined();
});

test('acks: false is v1: no opt-in, nothing redelivered', async () => {
  const b = await broker();
  const c = await client(b);
  const first = await agentAt(b.wsUrl, { name: 'v1', acks: false });
  const got = nextEvent(first, 'message');
  c.send({ type: 'message', id: 'c-1', agent: 'v1', data: 1 });
  await got;
  await first.close();
  const second = await agentAt(b.wsUrl, { name: 'v1', acks: false });
  const next = nextEvent(second, 'message');
  c.send({ type: 'message', id: 'c-2', agent: 'v1', data: 2 });
  expect((await next)[0].data).toBe(2);
});

test('a turn\'s messages are acknowledged by one ack frame (ids, welcome ackIds): nothing of them is redelivered', async () => {
  const b = await broker();
  const c = await client(b);
  const first = await agentAt(b.wsUrl, { name: 'batch' });
  const seen: string[] = [];
  first.on('message', (m) => void seen.push(m.id));
  const sock = (c.ws as unknown as { _socket: import('node:net').Socket })._socket;
  // One TCP write: the broker reads the five in one turn and writes them to the agent in one.
  sock.cork();
  for (let n = 1; n <= 5; n++) c.send({ type: 'message', id: `c-${n}`, agent: 'batch', data: n });
  sock.uncork();
  await expect.poll(() => seen.length).toBe(5);
  const acks = async () => {
    const text = await (await fetch(`${b.url}/metrics`)).text();
    return Number(/^agent_bridge_frames_in_total\{kind="agent",type="ack"\} (\d+)/m.exec(text)?.[1] ?? 0);
  };
  await expect.poll(acks).toBeGreaterThan(0);
  expect(await acks()).toBeLessThan(5);
  // Acknowledged (the list was read): the next agent of the name gets no redelivery, only the marker.
  await first.close();
  const second = connectAgent({ url: b.wsUrl, token: 'dev_token', logger: silent, name: 'batch', backoff: FAST_BACKOFF });
  cleanup.push(() => second.close());
  await nextEvent(second, 'welcome');
  c.send({ type: 'message', id: 'c-6', agent: 'batch', data: 'marker' });
  const [marker] = (await nextEvent(second, 'message')) as [ClientMessageEvent];
  expect(marker.data).toBe('marker');
  expect(marker.redelivered).toBeUndefined();
});
