// Embedded mode survives a deploy (issue 11 item 4): a broker stopped with SIGTERM writes its state
// to STATE_SNAPSHOT_PATH and the next start reads it, so every client resumes (same epoch, every
// frame once, in order) and waiting messages still reach their agent. SIGKILL loses the state;
// a bad file is one log line; `off` writes nothing.
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { connectBrowser, connectRawAgent, registerClient, startStack, type Frame, type Stack, type TestSocket } from '@agent-bridge/testkit';
import { resumePoint, seqs, texts } from './helpers.ts';

const FAST = {
  HEARTBEAT_INTERVAL_MS: '200',
  HEARTBEAT_TIMEOUT_MS: '1500',
  SESSION_TTL_MS: '60000',
};

let stack: Stack | undefined;
let dir: string | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function snapshotFile(): Promise<string> {
  dir = await mkdtemp(path.join(tmpdir(), 'broker-state-'));
  return path.join(dir, 'state.json');
}

/** The broker's JSON log lines with this msg. */
const logLines = (s: Stack, msg: string): Frame[] =>
  s.broker
    .stdout()
    .split('\n')
    .filter((l) => l.includes(msg))
    .map((l) => JSON.parse(l) as Frame);

/** Send with an id and wait for its `accepted`: the frame has its seq and is in the log (§8). */
async function sendAccepted(agent: TestSocket, frame: Record<string, unknown> & { id: string }): Promise<void> {
  agent.send(frame);
  await agent.next((f) => f.type === 'accepted' && f.ref === frame.id);
}

describe('state snapshot (embedded mode)', () => {
  test('SIGTERM → restart: detached and connected clients resume with the same epoch, every frame once in order; a waiting message reaches the agent that comes later', async () => {
    const file = await snapshotFile();
    stack = await startStack({ env: { ...FAST, STATE_SNAPSHOT_PATH: file } });
    const agent = await connectRawAgent(stack.brokerUrl);
    await agent.next('welcome');

    // Alice will be away during the restart; Bob stays connected through it.
    const alice = await registerClient(stack.webUrl);
    const aliceWs = await connectBrowser(stack.webUrl, alice);
    const welcome = await aliceWs.next('welcome');
    const bob = await registerClient(stack.webUrl);
    const bobWs = await connectBrowser(stack.webUrl, bob);
    await bobWs.next('welcome');
    for (let i = 0; i < 3; i++) await sendAccepted(agent, { type: 'send', id: `a-${i}`, to: alice.clientId, data: { text: `before-${i}` } });
    await expect.poll(() => texts(aliceWs.frames).length).toBe(3);

    // Bob asks for an agent that is not there: the message waits (accepted = stored for delivery).
    bobWs.send({ type: 'message', id: 'b-1', agent: 'absent', data: { text: 'for the absent agent' } });
    await bobWs.next((f) => f.type === 'accepted' && f.ref === 'b-1');

    // Alice goes away (not a goodbye: the session is kept); frames keep coming for her.
    const point = resumePoint(aliceWs);
    aliceWs.close(4000, 'away');
    await agent.next((f) => f.type === 'system' && f.event === 'client.disconnected' && f.clientId === alice.clientId);
    for (let i = 0; i < 5; i++) await sendAccepted(agent, { type: 'send', id: `d-${i}`, to: alice.clientId, data: { text: `detached-${i}` } });
    // A broadcast: one body shared by both sessions' logs.
    await sendAccepted(agent, { type: 'broadcast', id: 'bc-1', data: { text: 'to everyone' } });
    await expect.poll(() => texts(bobWs.frames)).toContain('to everyone');

    expect(await stack.broker.stop('SIGTERM')).toBe(0);
    const [written] = logLines(stack, 'state snapshot written');
    expect(written).toMatchObject({ path: file, epoch: welcome.epoch, sessions: 2, waiting: 1 });
    expect(existsSync(file)).toBe(true);

    await stack.broker.start();
    expect(logLines(stack, 'state snapshot loaded')[0]).toMatchObject({ epoch: welcome.epoch, sessions: 2, waiting: 1 });
    // Loaded once: a later SIGKILL must not bring this state back.
    expect(existsSync(file)).toBe(false);

    // Bob's browser never closed: the web server redialed and the broker resumed it.
    const reconnected = await bobWs.next((f) => f.type === 'system' && f.event === 'bridge.reconnected', 15_000);
    expect(reconnected).toMatchObject({ resumed: true, epoch: welcome.epoch });

    // Alice comes back: everything she missed, once, in order, before anything new.
    const again = await connectBrowser(stack.webUrl, alice, point);
    const back = await again.next('welcome');
    expect(back).toMatchObject({ resumed: true, epoch: welcome.epoch });
    const agent2 = await connectRawAgent(stack.brokerUrl);
    await agent2.next('welcome');
    await sendAccepted(agent2, { type: 'send', id: 'after', to: alice.clientId, data: { text: 'after-restart' } });
    await expect.poll(() => texts(again.frames)).toContain('after-restart');
    const missed = [...Array.from({ length: 5 }, (_, i) => `detached-${i}`), 'to everyone'];
    expect(texts(again.frames)).toEqual([...missed, 'after-restart']);
    expect(back.replayed).toBeGreaterThanOrEqual(missed.length);
    const s = seqs(again.frames);
    expect(s[0]).toBe(point.lastSeq + 1);
    expect(s).toEqual(Array.from({ length: s.length }, (_, i) => point.lastSeq + 1 + i));

    // The waiting message reaches the agent of that name that connects after the restart.
    const absent = await connectRawAgent(stack.brokerUrl, { name: 'absent' });
    await absent.next('welcome');
    expect(await absent.next('client.message')).toMatchObject({ clientId: bob.clientId, ref: 'b-1', data: { text: 'for the absent agent' } });

    // SIGKILL writes nothing: the next start is a fresh seq space and Alice cannot resume.
    const point2 = resumePoint(again);
    await stack.broker.kill();
    await stack.broker.start();
    expect(logLines(stack, 'state snapshot loaded')).toHaveLength(1);
    const third = await connectBrowser(stack.webUrl, alice, point2);
    const fresh = await third.next('welcome');
    expect(fresh.resumed).toBe(false);
    expect(fresh.epoch).not.toBe(welcome.epoch);
  });

  test('a corrupt snapshot: one log line, set aside, the broker starts fresh', async () => {
    const file = await snapshotFile();
    await writeFile(file, '{"format":"agent-bridge/broker-state","version":1,"epoch":"e","sessio');
    stack = await startStack({ env: { ...FAST, STATE_SNAPSHOT_PATH: file } });
    const lines = stack.broker.logs().split('\n').filter((l) => l.includes('snapshot'));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 40, msg: 'state snapshot ignored: starting fresh', path: file });
    const names = await readdir(dir!);
    expect(names).toHaveLength(1);
    expect(names[0]).toMatch(/^state\.json\.rejected-/);
    // It serves: a client gets a fresh session.
    const s = await registerClient(stack.webUrl);
    const ws = await connectBrowser(stack.webUrl, s, { lastSeq: 3, epoch: 'e' });
    expect(await ws.next('welcome')).toMatchObject({ resumed: false });
  });

  test('STATE_SNAPSHOT_PATH=off: SIGTERM writes nothing, the restart is a fresh seq space', async () => {
    stack = await startStack({ env: { ...FAST, STATE_SNAPSHOT_PATH: 'off' } });
    const s = await registerClient(stack.webUrl);
    const ws = await connectBrowser(stack.webUrl, s);
    const welcome = await ws.next('welcome');
    ws.close(4000, 'away');
    await stack.broker.restart();
    const again = await connectBrowser(stack.webUrl, s, resumePoint(ws));
    const back = await again.next('welcome');
    expect(back.resumed).toBe(false);
    expect(back.epoch).not.toBe(welcome.epoch);
    expect(stack.broker.logs()).not.toContain('snapshot');
  });

  test('SIGTERM restart: the waiting upstreams come back together once the broker answers again, not each at its next backoff step', async () => {
    const file = await snapshotFile();
    stack = await startStack({ env: { ...FAST, STATE_SNAPSHOT_PATH: file } });
    const arrived = new WeakMap<Frame, number>();
    const browsers: TestSocket[] = [];
    for (let i = 0; i < 3; i++) {
      const ws = await connectBrowser(stack.webUrl, await registerClient(stack.webUrl));
      ws.ws.on('message', () => arrived.set(ws.frames[ws.frames.length - 1]!, performance.now()));
      await ws.next('welcome');
      browsers.push(ws);
    }
    // The web server cannot reach the broker during the restart nor for a while after, so its
    // upstreams climb the default schedule: 1 s, 2 s, then 4 s ±20 %.
    stack.upstreamProxy.block();
    expect(await stack.broker.stop('SIGTERM')).toBe(0);
    await stack.broker.start();
    const due = await Promise.all(
      browsers.map(async (ws) => {
        for (;;) {
          const f = await ws.event('bridge.reconnecting', 15_000);
          if ((f.retryInMs as number) >= 3200) return arrived.get(f)! + (f.retryInMs as number);
        }
      }),
    );
    // Each now waits ≥ 2 s more; the web server's /readyz probe (every second) finds the broker.
    stack.upstreamProxy.unblock();
    const reachable = performance.now();
    for (const [i, ws] of browsers.entries()) {
      const back = await ws.event('bridge.reconnected', 10_000);
      expect(back).toMatchObject({ resumed: true });
      expect(arrived.get(back)! - reachable).toBeLessThan(1500);
      expect(arrived.get(back)!).toBeLessThan(due[i]! - 500);
    }
  });
});
