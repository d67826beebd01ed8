// A newcomer's first minute, through the real processes: register, connect, talk to the demo agent.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { connectBrowser, registerClient, startStack, type Stack } from '@agent-bridge/testkit';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ agent: true });
});
afterAll(() => stack?.close());

test('a browser client talks to the demo agent through web server and broker', async () => {
  const session = await registerClient(stack.webUrl);
  const ws = await connectBrowser(stack.webUrl, session);
  const welcome = await ws.next('welcome');
  expect(welcome).toMatchObject({ clientId: session.clientId, resumed: false, replayed: 0, agents: ['default'] });
  ws.send({ type: 'message', id: 'c-1', data: { text: 'echo hello bridge' } });
  const reply = await ws.next('message');
  expect(reply).toMatchObject({ type: 'message', from: 'default', data: { text: 'hello bridge' } });
  expect(reply.seq).toBe(1);
  ws.send({ type: 'message', id: 'c-2', data: { text: 'whoami' } });
  const who = await ws.next('message');
  expect(String((who.data as { text: string }).text)).toContain(session.clientId);
  ws.close(1000);
});

test('both services answer /healthz', async () => {
  for (const url of [stack.brokerUrl, stack.webUrl]) {
    const res = await fetch(`${url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok' });
  }
});
