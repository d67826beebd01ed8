// "What survives which failure" (README): each row is a test here, against the real processes.
import { afterEach, describe, expect, test } from 'vitest';
import { connectBrowser, connectRawAgent, registerClient, startStack, type Stack } from '@agent-bridge/testkit';
import { agentAndBrowser, echoAgent, resumePoint, seqs, texts } from './helpers.ts';

const FAST = {
  HEARTBEAT_INTERVAL_MS: '200',
  HEARTBEAT_TIMEOUT_MS: '1500',
  SESSION_TTL_MS: '30000',
  CLIENT_RATE_PER_SEC: '5000',
  CLIENT_RATE_BURST: '5000',
};

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

describe('nothing lost', () => {
  test('500 messages each way arrive complete and in order', async () => {
    stack = await startStack({ env: FAST });
    const { agent, ws } = await agentAndBrowser(stack);
    echoAgent(agent);
    for (let i = 0; i < 500; i++) ws.send({ type: 'message', id: `c-${i}`, data: { text: `m${i}` } });
    await expect.poll(() => texts(ws.frames).length >= 500, { timeout: 15000, message: '500 echoes' }).toBe(true);
    const expected = Array.from({ length: 500 }, (_, i) => `m${i}`);
    expect(texts(ws.frames)).toEqual(expected);
    const toAgent = agent.frames.filter((f) => f.type === 'client.message').map((f) => f.ref);
    expect(toAgent).toEqual(expected.map((_, i) => `c-${i}`));
    const s = seqs(ws.frames);
    expect(s).toEqual(Array.from({ length: s.length }, (_, i) => s[0]! + i));
  });

  test('client socket killed mid-stream, then resumed: every frame once, in order', async () => {
    stack = await startStack({ env: FAST });
    const { agent, session, ws: first } = await agentAndBrowser(stack);
    await agent.event('client.connected');
    const N = 300;
    let sent = 0;
    let killed!: () => void;
    const kill = new Promise<void>((r) => (killed = r));
    const pump = (async () => {
      for (; sent < N; sent++) {
        // The stream goes on across the kill: the last 200 frames are sent after it for sure,
        // however fast the first 100 were read.
        if (sent === 100) await kill;
        agent.send({ type: 'send', to: session.clientId, data: { text: `a${sent}` } });
        if (sent % 20 === 0) await new Promise((r) => setTimeout(r, 5));
      }
    })();
    await expect.poll(() => texts(first.frames).length >= 50, { timeout: 10000, message: 'first 50 frames' }).toBe(true);
    first.ws.terminate(); // a network drop, not a goodbye
    killed();
    await pump;
    await agent.next((f) => f.type === 'system' && f.event === 'client.disconnected');
    const point = resumePoint(first);
    const second = await connectBrowser(stack.webUrl, session, point);
    const welcome = await second.next('welcome');
    expect(welcome).toMatchObject({ resumed: true, epoch: point.epoch });
    await expect.poll(() => texts(first.frames).length + texts(second.frames).length >= N, { timeout: 10000, message: 'all frames' }).toBe(true);
    const got = [...texts(first.frames), ...texts(second.frames)];
    expect(got).toEqual(Array.from({ length: N }, (_, i) => `a${i}`));
    // replayed counts exactly the frames sent before anything new (those up to welcome.lastSeq).
    expect(welcome.replayed).toBe(seqs(second.frames).filter((s) => s <= Number(welcome.lastSeq)).length);
    expect(welcome.replayed).toBeGreaterThan(0);
    expect(seqs(second.frames)[0]).toBe(point.lastSeq + 1);
  });

  test('web server killed: the client reconnects through a fresh one and resumes', async () => {
    stack = await startStack({ env: FAST });
    const { agent, session, ws: first } = await agentAndBrowser(stack);
    agent.send({ type: 'send', to: session.clientId, data: { text: 'before' } });
    await first.next('message');
    await stack.web.kill();
    await first.waitClose();
    // The agent keeps talking while the client has no way in.
    agent.send({ type: 'send', to: session.clientId, data: { text: 'during-1' } });
    agent.send({ type: 'send', to: session.clientId, data: { text: 'during-2' } });
    await stack.web.start();
    const second = await connectBrowser(stack.webUrl, session, resumePoint(first));
    expect(await second.next('welcome')).toMatchObject({ resumed: true, replayed: 2 });
    expect(texts([await second.next('message'), await second.next('message')])).toEqual(['during-1', 'during-2']);
    second.send({ type: 'message', id: 'after', data: { text: 'still me' } });
    const seen = await agent.next('client.message');
    expect(seen).toMatchObject({ clientId: session.clientId, ref: 'after' });
  });

  test('broker killed (SIGKILL) and restarted: the browser socket stays open, held frames are delivered, the loss is signalled', async () => {
    stack = await startStack({ env: FAST });
    const cast = await agentAndBrowser(stack);
    let agent = cast.agent;
    const { session, ws, welcome } = cast;
    await stack.broker.kill();
    const reconnecting = await ws.event('bridge.reconnecting', 5000);
    expect(reconnecting.retryInMs).toEqual(expect.any(Number));
    expect(ws.closed).toBeUndefined();
    // Sent while the broker is down: held by the web server, delivered in order later.
    ws.send({ type: 'message', id: 'h-1', data: { text: 'held 1' } });
    ws.send({ type: 'message', id: 'h-2', data: { text: 'held 2' } });
    await stack.broker.start();
    agent = await connectRawAgent(stack.brokerUrl);
    await agent.next('welcome');
    const back = await ws.event('bridge.reconnected', 15000);
    // In-memory state died with the broker: a new epoch and an honest resumed:false.
    expect(back.epoch).not.toBe(welcome.epoch);
    expect(back.resumed).toBe(false);
    const a = await agent.next('client.message', 10000);
    const b = await agent.next('client.message', 10000);
    expect([a.ref, b.ref]).toEqual(['h-1', 'h-2']);
    agent.send({ type: 'send', to: session.clientId, data: { text: 'welcome back' } });
    expect(await ws.next('message')).toMatchObject({ data: { text: 'welcome back' } });
    expect(ws.closed).toBeUndefined();
  });

  test('agent killed and restarted: client messages wait and arrive in order', async () => {
    stack = await startStack({ env: FAST, agent: true });
    const session = await registerClient(stack.webUrl);
    const ws = await connectBrowser(stack.webUrl, session);
    await ws.next('welcome');
    await stack.agent.kill();
    await ws.event('agent.disconnected', 5000);
    ws.send({ type: 'message', id: 'q-1', data: { text: 'echo one' } });
    ws.send({ type: 'message', id: 'q-2', data: { text: 'echo two' } });
    await stack.agent.start();
    await ws.event('agent.connected', 10000);
    const r1 = await ws.next('message', 10000);
    const r2 = await ws.next('message', 10000);
    expect(texts([r1, r2])).toEqual(['one', 'two']);
  });

  test('upstream cut (network, not a crash): the session resumes with nothing lost', async () => {
    stack = await startStack({ env: FAST });
    const { agent, session, ws, welcome } = await agentAndBrowser(stack);
    stack.upstreamProxy.block();
    stack.upstreamProxy.cut();
    await ws.event('bridge.reconnecting', 5000);
    agent.send({ type: 'send', to: session.clientId, data: { text: 'while cut' } });
    ws.send({ type: 'message', id: 'x-1', data: { text: 'from client while cut' } });
    stack.upstreamProxy.unblock();
    const back = await ws.event('bridge.reconnected', 15000);
    expect(back).toMatchObject({ epoch: welcome.epoch, resumed: true });
    expect(await ws.next('message')).toMatchObject({ data: { text: 'while cut' } });
    expect(await agent.next('client.message')).toMatchObject({ ref: 'x-1' });
  });
});
