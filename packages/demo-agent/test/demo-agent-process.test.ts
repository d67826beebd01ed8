// The demo agent as a real process (node --import tsx src/main.ts, through the testkit's
// ServiceProcess) against an in-process broker.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createLogger, loadConfig } from '@agent-bridge/common';
import { startBroker } from '@agent-bridge/websocket-server';
import { ServiceProcess, TestSocket } from '@agent-bridge/testkit';

type Broker = Awaited<ReturnType<typeof startBroker>>;

let broker: Broker;
let agent: ServiceProcess;
const sockets: TestSocket[] = [];

const ADDRESS = '0x52908400098527886E0F7030069857D2E4169EE7';

beforeAll(async () => {
  broker = await startBroker(
    loadConfig({ WEBSOCKET_SERVER_ADDR: '127.0.0.1:0', LOG_LEVEL: 'silent', HEARTBEAT_INTERVAL_MS: '50', HEARTBEAT_TIMEOUT_MS: '300' }),
    { logger: createLogger('test', { level: 'silent' }) },
  );
  agent = new ServiceProcess({
    name: 'demo-agent',
    entry: 'packages/demo-agent/src/main.ts',
    env: {
      BROKER_URL: broker.wsUrl,
      AGENT_TOKEN: 'dev_token',
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
      HEARTBEAT_INTERVAL_MS: '50',
      HEARTBEAT_TIMEOUT_MS: '300',
      NODE_ENV: 'test',
    },
    readyLine: /connected/,
    startTimeoutMs: 20_000,
  });
  await agent.start();
}, 30_000);

afterAll(async () => {
  for (const s of sockets) s.close(1000);
  if (agent?.running) await agent.kill();
  await broker?.close();
});

async function client(): Promise<TestSocket & { id: string }> {
  const id = randomUUID();
  const ws = await TestSocket.open(`${broker.wsUrl}/ws/client/${id}`, { headers: { Authorization: 'Bearer dev_proxy_token' } });
  sockets.push(ws);
  await ws.next('welcome');
  return Object.assign(ws, { id });
}

const text = (f: Record<string, unknown>) => String((f.data as { text?: unknown }).text);

test('logs one JSON info line saying it is connected', () => {
  const line = agent.stdout().split('\n').find((l) => l.includes('connected'))!;
  expect(JSON.parse(line)).toMatchObject({ level: 30, name: 'demo-agent' });
  expect(agent.logs()).not.toContain('dev_token');
});

test('echo hello world comes back exactly', async () => {
  const c = await client();
  c.send({ type: 'message', id: 'c-1', data: { text: 'echo hello world' } });
  expect(await c.next('message', 10_000)).toMatchObject({ type: 'message', from: 'default', data: { text: 'hello world' } });
});

test('a plain string works too; other data gets a hint naming help', async () => {
  const c = await client();
  c.send({ type: 'message', data: 'ECHO plain' });
  expect(text(await c.next('message', 10_000))).toBe('plain');
  c.send({ type: 'message', data: { nope: 1 } });
  expect(text(await c.next('message', 10_000))).toContain('help');
});

test('whoami, then sign-in: greeting and the address in whoami', async () => {
  const c = await client();
  c.send({ type: 'message', data: { text: 'whoami' } });
  const anon = text(await c.next('message', 10_000));
  expect(anon).toContain(c.id);
  expect(anon).toContain('anonymous');
  const res = await fetch(`${broker.url}/internal/clients/${c.id}/identity`, {
    method: 'POST',
    headers: { Authorization: 'Bearer dev_proxy_token', 'Content-Type': 'application/json' },
    body: JSON.stringify({ address: ADDRESS }),
  });
  expect(res.status).toBe(204);
  expect(text(await c.next('message', 10_000))).toBe(`welcome, ${ADDRESS}`);
  c.send({ type: 'message', data: { text: 'whoami' } });
  expect(text(await c.next('message', 10_000))).toContain(`address: ${ADDRESS}`);
});

test('broadcast reaches every client and reports the count', async () => {
  const a = await client();
  const b = await client();
  // Both are known to the agent once it has seen their client.connected: ask until it counts
  // them. The answer is a count and the asker's own id, never another client's id.
  let count = 0;
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && count < 2) {
    a.send({ type: 'message', data: { text: 'clients' } });
    const reply = text(await a.next('message', 10_000));
    expect(reply).toContain(`(you are ${a.id})`);
    expect(reply).not.toContain(b.id);
    count = Number(/^(\d+) client/.exec(reply)![1]);
  }
  expect(count).toBeGreaterThanOrEqual(2);
  a.send({ type: 'message', data: { text: 'broadcast hi all' } });
  const [first, second] = [text(await a.next('message', 10_000)), text(await a.next('message', 10_000))];
  expect([first, second]).toEqual(['hi all', `broadcast sent to ${count} clients`]);
  expect(text(await b.next('message', 10_000))).toBe('hi all');
});

test('a broadcast with escape sequences reaches the other clients as plain text', async () => {
  const a = await client();
  const b = await client();
  // b must be known to the agent before the broadcast, or it is not among the recipients.
  const deadline = Date.now() + 10_000;
  for (let n = 0; n < 2 && Date.now() < deadline; ) {
    a.send({ type: 'message', data: { text: 'clients' } });
    n = Number(/^(\d+) client/.exec(text(await a.next('message', 10_000)))![1]);
  }
  a.send({ type: 'message', data: { text: 'broadcast \x1b[2J\x1b[H\x1b]0;pwned\x07\x1b]8;;https://evil.example/\x1b\\login\x1b]8;;\x1b\\\rsploots> ' } });
  expect(text(await b.next((f) => f.type === 'message' && String(f.data?.text).startsWith('login'), 10_000))).toBe('loginsploots>');
});

test('plain text is answered as a streamed run, not "unknown command"; help lists the run commands', async () => {
  const c = await client();
  c.send({ type: 'message', data: { text: 'hello there' } });
  const events: Record<string, any>[] = [];
  while (events.at(-1)?.type !== 'RUN_FINISHED') events.push((await c.next('message', 10_000)).data);
  expect(events[0]).toMatchObject({ type: 'RUN_STARTED' });
  const text = events.filter((e) => e.type === 'TEXT_MESSAGE_CONTENT').map((e) => e.delta).join('');
  expect(text.length).toBeGreaterThan(0);
  expect(text).not.toContain('unknown command');
  c.send({ type: 'message', data: { text: 'help' } });
  const help = String((await c.next('message', 10_000)).data.text);
  for (const word of ['story', 'weather <city>', 'transfer <amount>']) expect(help).toContain(word);
});

test('SIGTERM: closes and exits 0', async () => {
  const c = await client();
  expect(await agent.stop('SIGTERM', 5000)).toBe(0);
  await c.event('agent.disconnected', 5000);
});
