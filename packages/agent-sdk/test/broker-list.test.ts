// connectAgent with several broker URLs (PROTOCOL §10): a dead first broker costs one dial, and a
// redial after a drop goes to the next broker in the list, with the outbox resent there.
import { randomUUID } from 'node:crypto';
import { afterEach, expect, test } from 'vitest';
import { loadConfig } from '@agent-bridge/common';
import { startBroker } from '@agent-bridge/websocket-server';
import { TestSocket } from '@agent-bridge/testkit';
import { connectAgent, type Agent, type ConnectAgentOptions } from '../src/index.ts';
import { FAST_BACKOFF, nextEvent, silent } from './helpers.ts';

const ENV = { WEBSOCKET_SERVER_ADDR: '127.0.0.1:0', LOG_LEVEL: 'silent', HEARTBEAT_INTERVAL_MS: '50', HEARTBEAT_TIMEOUT_MS: '300', SESSION_TTL_MS: '5000' };
/** Nothing listens there: every dial fails at once. */
const DEAD = 'ws://127.0.0.1:1';

const cleanup: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
});

async function broker() {
  const b = await startBroker(loadConfig(ENV), { logger: silent });
  cleanup.push(() => b.close());
  return b;
}

function agentAt(url: ConnectAgentOptions['url']): Agent {
  const agent = connectAgent({ url, token: 'dev_token', logger: silent, heartbeatTimeoutMs: 300, backoff: FAST_BACKOFF });
  cleanup.push(() => agent.close());
  return agent;
}

async function client(b: { wsUrl: string }, clientId = randomUUID()) {
  const ws = await TestSocket.open(`${b.wsUrl}/ws/client/${clientId}`, { headers: { Authorization: 'Bearer dev_proxy_token' } });
  cleanup.push(() => ws.close(1000));
  await ws.next('welcome');
  return Object.assign(ws, { id: clientId });
}

test('an array whose first broker is dead: the agent connects to the second', async () => {
  const b = await broker();
  const agent = agentAt([DEAD, b.url]);
  const [welcome] = await nextEvent(agent, 'welcome');
  expect(welcome).toMatchObject({ type: 'welcome' });
  expect(agent.connected).toBe(true);
  const c = await client(b);
  agent.send(c.id, { text: 'via the second' });
  expect(await c.next('message')).toMatchObject({ data: { text: 'via the second' } });
});

test('a comma-separated string works the same', async () => {
  const b = await broker();
  const agent = agentAt(`${DEAD}, ${b.url}`);
  await nextEvent(agent, 'welcome');
  expect(agent.connected).toBe(true);
});

test('after its broker goes, the agent redials the next broker of the list and its outbox goes there', async () => {
  const first = await broker();
  const second = await broker();
  const agent = agentAt([first.url, second.url]);
  await nextEvent(agent, 'welcome');
  const onSecond = await client(second);

  const reconnecting = nextEvent(agent, 'reconnecting');
  await first.close();
  await reconnecting;
  // Sent while disconnected: held in the outbox, delivered once the second broker welcomed us.
  agent.send(onSecond.id, { text: 'held' });
  await nextEvent(agent, 'welcome');
  expect(await onSecond.next('message')).toMatchObject({ data: { text: 'held' } });
});
