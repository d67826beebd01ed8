// The SDK against a raw ws server playing the broker: exact frames, misbehaviour, timing.
import { afterEach, describe, expect, test } from 'vitest';
import { AgentSdkError, connectAgent, type Agent, type ConnectAgentOptions } from '../src/index.ts';
import { FAST_BACKOFF, FakeBridge, nextEvent, record, silent, sleep } from './helpers.ts';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
});

async function bridge(opts?: ConstructorParameters<typeof FakeBridge>[0]): Promise<FakeBridge> {
  const b = await new FakeBridge(opts).start();
  cleanup.push(() => b.stop());
  return b;
}

function agentFor(b: FakeBridge, over: Partial<ConnectAgentOptions> = {}): Agent {
  const agent = connectAgent({ url: b.url, token: 'dev_token', logger: silent, backoff: FAST_BACKOFF, ...over });
  cleanup.push(() => agent.close());
  return agent;
}

const client = (clientId: string, address: string | null = null, connected?: boolean) =>
  connected === undefined ? { clientId, address } : { clientId, address, connected };

describe('connecting', () => {
  test('dials /ws/agent with the bearer token and agent name', async () => {
    const b = await bridge();
    agentFor(b, { url: `${b.url}/`, name: 'trader' });
    const up = await b.connection(0);
    expect(up.url).toBe('/ws/agent');
    expect(up.headers.authorization).toBe('Bearer dev_token');
    expect(up.headers['x-agent-name']).toBe('trader');
  });

  test('open then welcome: connected, agentId and clients (with the connected extension)', async () => {
    const b = await bridge();
    const agent = agentFor(b);
    const events = record(agent, ['open', 'welcome']);
    expect(agent.connected).toBe(false);
    const welcome = nextEvent(agent, 'welcome');
    await b.welcomed(0, [client('c1'), client('c2', '0xabc', false)]);
    const [w] = await welcome;
    expect(w).toMatchObject({ agent: 'default', agentId: 'agent-0' });
    expect(events.map((e) => e.event)).toEqual(['open', 'welcome']);
    expect(agent.connected).toBe(true);
    expect(agent.agentId).toBe('agent-0');
    expect([...agent.clients.values()]).toEqual([
      { clientId: 'c1', address: null, connected: true },
      { clientId: 'c2', address: '0xabc', connected: false },
    ]);
  });

  test('bad options throw at once', () => {
    expect(() => connectAgent({ url: 'ws://127.0.0.1:1', token: '' })).toThrow(AgentSdkError);
    expect(() => connectAgent({ url: 'ws://127.0.0.1:1', token: 't', name: 'no spaces' })).toThrow(/name/);
    expect(() => connectAgent({ url: 'ftp://x', token: 't' })).toThrow(/url/);
    expect(() => connectAgent({ url: 'ws://127.0.0.1:1', token: 't', outboxLimit: 0 })).toThrow(/outboxLimit/);
  });
});

describe('frames', () => {
  test('message, reply, send to a list, broadcast with except: the exact wire frames', async () => {
    const b = await bridge();
    const agent = agentFor(b);
    const ws = await b.welcomed(0, [client('c1')]);
    await nextEvent(agent, 'welcome');
    const msg = { type: 'client.message', id: 'm-1', ref: 'c-1', clientId: 'c1', address: null, data: { text: 'hi' }, ts: 'now' };
    ws.send(msg);
    const [got] = await nextEvent(agent, 'message');
    expect(got).toEqual(msg);
    agent.reply(got, { text: 'yo' });
    const id = agent.send(['c1', 'c2'], 'plain', { id: 'mine' });
    expect(id).toBe('mine');
    agent.broadcast({ n: 1 }, { except: ['c1'] });
    agent.broadcast(null);
    expect(await ws.next('send')).toMatchObject({ type: 'send', to: 'c1', data: { text: 'yo' }, id: expect.stringMatching(/^a-[a-z0-9]+-\d+$/) });
    expect(await ws.next('send')).toEqual({ type: 'send', id: 'mine', to: ['c1', 'c2'], data: 'plain' });
    expect(await ws.next('broadcast')).toMatchObject({ type: 'broadcast', data: { n: 1 }, except: ['c1'] });
    const last = await ws.next('broadcast');
    expect(last).toMatchObject({ type: 'broadcast', data: null });
    expect(last).not.toHaveProperty('except');
  });

  test('invalid outgoing frames throw invalid_frame and send nothing', async () => {
    const b = await bridge();
    const agent = agentFor(b);
    const ws = await b.welcomed(0);
    await nextEvent(agent, 'welcome');
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        return (err as AgentSdkError).code;
      }
      return 'no throw';
    };
    expect(code(() => agent.send('c1', undefined))).toBe('invalid_frame');
    expect(code(() => agent.send('c1', () => 1))).toBe('invalid_frame');
    expect(code(() => agent.send([], 'x'))).toBe('invalid_frame');
    expect(code(() => agent.send('', 'x'))).toBe('invalid_frame');
    expect(code(() => agent.send('c1', { big: 10n }))).toBe('invalid_frame');
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(code(() => agent.broadcast(circular))).toBe('invalid_frame');
    agent.send('c1', 'ok');
    expect(await ws.next()).toMatchObject({ type: 'send', data: 'ok' });
  });

  test('lifecycle events update agent.clients and reach their listeners, then system', async () => {
    const b = await bridge();
    const agent = agentFor(b);
    const ws = await b.welcomed(0, [client('c1')]);
    await nextEvent(agent, 'welcome');
    const log = record(agent, ['client.connected', 'client.disconnected', 'client.expired', 'client.authenticated', 'client.signed_out', 'system']);
    const sys = (event: string, extra: Record<string, unknown>) => ws.send({ type: 'system', event, ts: 'now', ...extra });
    sys('client.connected', { clientId: 'c2', address: null, resumed: false });
    await expect.poll(() => agent.clients.has('c2'), { timeout: 5000 }).toBe(true);
    expect(agent.clients.get('c2')).toEqual({ clientId: 'c2', address: null, connected: true });
    sys('client.authenticated', { clientId: 'c2', address: '0xAbC' });
    await expect.poll(() => agent.clients.get('c2')?.address === '0xAbC', { timeout: 5000 }).toBe(true);
    sys('client.disconnected', { clientId: 'c2', resumable: true });
    await expect.poll(() => agent.clients.get('c2')?.connected === false, { timeout: 5000 }).toBe(true);
    expect(agent.clients.get('c2')!.address).toBe('0xAbC');
    sys('client.signed_out', { clientId: 'c2' });
    await expect.poll(() => agent.clients.get('c2')?.address === null, { timeout: 5000 }).toBe(true);
    sys('client.expired', { clientId: 'c2' });
    await expect.poll(() => !agent.clients.has('c2'), { timeout: 5000 }).toBe(true);
    sys('agent.whatever', { x: 1 });
    await expect.poll(() => log.length === 11, { timeout: 5000 }).toBe(true);
    expect(log.map((e) => e.event)).toEqual([
      'client.connected', 'system',
      'client.authenticated', 'system',
      'client.disconnected', 'system',
      'client.signed_out', 'system',
      'client.expired', 'system',
      'system',
    ]);
    expect(log[2]!.args[0]).toMatchObject({ event: 'client.authenticated', clientId: 'c2', address: '0xAbC' });
    expect(log[10]!.args[0]).toMatchObject({ event: 'agent.whatever', x: 1 });
    expect([...agent.clients.keys()]).toEqual(['c1']);
  });

  test('bridge error frames and unparseable frames become error events; the link stays up', async () => {
    const b = await bridge();
    const agent = agentFor(b);
    const ws = await b.welcomed(0);
    await nextEvent(agent, 'welcome');
    const errors = record(agent, ['error']);
    ws.send({ type: 'error', code: 'unknown_client', message: 'no such client', ref: 'a-7', clientIds: ['zz'] });
    ws.send('not json');
    ws.send({ type: 'client.message' });
    ws.ws.send(Buffer.from([1, 2]), { binary: true });
    await expect.poll(() => errors.length === 4, { timeout: 5000 }).toBe(true);
    expect(errors[0]!.args[0]).toEqual({ type: 'error', code: 'unknown_client', message: 'no such client', ref: 'a-7', clientIds: ['zz'] });
    expect(errors.slice(1).map((e) => (e.args[0] as { code: string }).code)).toEqual(['invalid_bridge_frame', 'invalid_bridge_frame', 'invalid_bridge_frame']);
    expect(agent.connected).toBe(true);
    agent.send('c1', 'still here');
    expect(await ws.next('send')).toMatchObject({ data: 'still here' });
  });

  test('an error frame with no error listener does not crash (Node would throw)', async () => {
    const b = await bridge();
    const agent = agentFor(b);
    const ws = await b.welcomed(0);
    await nextEvent(agent, 'welcome');
    ws.send({ type: 'error', code: 'unknown_client', message: 'x' });
    ws.send({ type: 'client.message', id: 'm', clientId: 'c1', address: null, data: 1, ts: 'now' });
    await nextEvent(agent, 'message');
    expect(agent.connected).toBe(true);
  });

  test('a throwing listener is reported as listener_failed and the link goes on', async () => {
    const b = await bridge();
    const agent = agentFor(b);
    const ws = await b.welcomed(0);
    await nextEvent(agent, 'welcome');
    agent.on('message', () => {
      throw new Error('user bug');
    });
    const err = nextEvent(agent, 'error');
    ws.send({ type: 'client.message', id: 'm', clientId: 'c1', address: null, data: 1, ts: 'now' });
    expect((await err)[0]).toMatchObject({ code: 'listener_failed', message: expect.stringContaining('user bug') });
    agent.send('c1', 'after');
    expect(await ws.next('send')).toMatchObject({ data: 'after' });
  });

  test('an async listener that rejects is reported as listener_failed, not an unhandled rejection', async () => {
    const b = await bridge();
    const agent = agentFor(b);
    const ws = await b.welcomed(0);
    await nextEvent(agent, 'welcome');
    agent.on('message', async () => {
      await sleep(1);
      throw new Error('async user bug');
    });
    const err = nextEvent(agent, 'error');
    ws.send({ type: 'client.message', id: 'm', clientId: 'c1', address: null, data: 1, ts: 'now' });
    expect((await err)[0]).toMatchObject({ code: 'listener_failed', message: expect.stringContaining('async user bug') });
    expect(agent.connected).toBe(true);
  });
});

describe('outbox', () => {
  test('frames sent before the welcome are flushed in order, before later ones', async () => {
    const b = await bridge();
    const agent = agentFor(b);
    agent.send('c1', 1);
    agent.broadcast(2);
    agent.send('c1', 3);
    expect(agent.pending).toBe(3);
    const { socket } = await b.connection(0);
    // Our ping's pong is a marker: anything the agent wrote on opening came before it.
    await new Promise((r) => {
      socket.ws.once('pong', r);
      socket.ws.ping();
    });
    expect(socket.frames).toEqual([]); // nothing before the welcome
    agent.on('welcome', () => agent.send('c1', 4));
    socket.send({ type: 'welcome', agent: 'default', agentId: 'a', clients: [] });
    const got = [];
    for (let i = 0; i < 4; i++) got.push((await socket.next()).data);
    expect(got).toEqual([1, 2, 3, 4]);
    expect(agent.pending).toBe(0);
  });

  test('when full, send throws outbox_full and keeps what it had', async () => {
    const b = await bridge();
    const agent = agentFor(b, { outboxLimit: 2 });
    agent.send('c1', 1);
    agent.send('c1', 2);
    expect(() => agent.send('c1', 3)).toThrow(expect.objectContaining({ name: 'AgentSdkError', code: 'outbox_full' }));
    expect(() => agent.broadcast(3)).toThrow(AgentSdkError);
    expect(agent.pending).toBe(2);
    const ws = await b.welcomed(0);
    expect((await ws.next()).data).toBe(1);
    expect((await ws.next()).data).toBe(2);
    agent.send('c1', 5); // room again once connected
    expect((await ws.next()).data).toBe(5);
  });
});

describe('reconnecting', () => {
  test('a dropped connection redials with backoff, re-welcomes and flushes what was sent meanwhile', async () => {
    const b = await bridge();
    const agent = agentFor(b);
    const first = await b.welcomed(0, [client('c1')]);
    await nextEvent(agent, 'welcome');
    const closed = nextEvent(agent, 'close');
    const reconnecting = nextEvent(agent, 'reconnecting');
    first.ws.terminate();
    expect((await closed)[0]).toMatchObject({ code: 1006, willReconnect: true });
    const [r] = await reconnecting;
    expect(r).toMatchObject({ attempt: 1, code: 1006 });
    expect(r.delayMs).toBeGreaterThanOrEqual(16);
    expect(r.delayMs).toBeLessThanOrEqual(24);
    expect(agent.connected).toBe(false);
    agent.send('c1', 'while away');
    const second = await b.welcomed(1, [client('c9')]);
    expect(await second.next()).toMatchObject({ type: 'send', data: 'while away' });
    await expect.poll(() => agent.connected, { timeout: 5000 }).toBe(true);
    expect(agent.agentId).toBe('agent-1');
    expect([...agent.clients.keys()]).toEqual(['c9']); // the new welcome replaces the list
  });

  test('attempts count up while the broker is away, with growing delays', async () => {
    const b = await bridge();
    const agent = agentFor(b);
    await b.welcomed(0);
    await nextEvent(agent, 'welcome');
    const port = b.port;
    const seen = record(agent, ['reconnecting']);
    const closes = record(agent, ['close']);
    await b.stop();
    await expect.poll(() => seen.length >= 4, { timeout: 5000, message: 'four redials' }).toBe(true);
    const evs = seen.map((e) => e.args[0] as { attempt: number; delayMs: number });
    expect(evs.slice(0, 4).map((e) => e.attempt)).toEqual([1, 2, 3, 4]);
    expect(evs[1]!.delayMs).toBeGreaterThan(evs[0]!.delayMs);
    // Failed dials report why (the socket error), not an empty reason.
    expect(closes.slice(1).map((e) => (e.args[0] as { reason: string }).reason)).toContain(`connect ECONNREFUSED 127.0.0.1:${port}`);
    // Back on the same port: the agent comes back by itself.
    const again = await new FakeBridge().start(port);
    cleanup.push(() => again.stop());
    await again.welcomed(0);
    await expect.poll(() => agent.connected, { timeout: 5000, message: 'reconnect' }).toBe(true);
  });

  test('the schedule only starts again from the first step after a connection stayed up (resetAfterMs)', async () => {
    const b = await bridge();
    const agent = agentFor(b, { backoff: { initialMs: 20, maxMs: 1000, jitter: 0, resetAfterMs: 150 } });
    const delays = record(agent, ['reconnecting']);
    for (let n = 0; n < 3; n++) {
      const ws = await b.welcomed(n);
      await nextEvent(agent, 'welcome');
      if (n === 2) await sleep(250); // this one stays up long enough
      ws.ws.terminate();
      await nextEvent(agent, 'reconnecting');
    }
    expect(delays.map((e) => (e.args[0] as { delayMs: number }).delayMs)).toEqual([20, 40, 20]);
    expect(delays.map((e) => (e.args[0] as { attempt: number }).attempt)).toEqual([1, 1, 1]);
  });

  test('1001 (server going away) redials; 1008 and 1009 stop with willReconnect false', async () => {
    for (const [code, redial] of [[1001, true], [1008, false], [1009, false], [4500, false]] as const) {
      const b = await bridge();
      const agent = agentFor(b);
      const ws = await b.welcomed(0);
      await nextEvent(agent, 'welcome');
      const closed = nextEvent(agent, 'close');
      ws.close(code, 'why');
      expect((await closed)[0]).toEqual({ code, reason: 'why', willReconnect: redial });
      if (redial) await b.connection(1);
      else {
        await sleep(150);
        expect(b.attempts).toBe(1);
        expect(agent.state).toBe('stopped');
        expect(() => agent.send('c1', 1)).toThrow(expect.objectContaining({ code: 'closed' }));
      }
    }
  });

  test('bad token: unauthorized event, close without redial, never dials again', async () => {
    const b = await bridge({ token: 'the-real-one' });
    const agent = agentFor(b);
    const events = record(agent, ['unauthorized', 'close', 'reconnecting', 'open']);
    const [u] = await nextEvent(agent, 'unauthorized');
    expect(u).toMatchObject({ status: 401, code: 'unauthorized', message: expect.stringContaining('bad agent token') });
    await sleep(200); // ten times the first backoff step
    expect(b.attempts).toBe(1);
    expect(events.map((e) => e.event)).toEqual(['unauthorized', 'close']);
    expect(events[1]!.args[0]).toMatchObject({ willReconnect: false });
    expect(agent.state).toBe('stopped');
    await agent.close(); // resolves at once
  });

  test('heartbeat silence (no frame, no ping, no pong) terminates and redials', async () => {
    const b = await bridge({ autoPong: false });
    const agent = agentFor(b, { heartbeatTimeoutMs: 200 });
    await b.welcomed(0);
    await nextEvent(agent, 'welcome');
    const t0 = Date.now();
    const [c] = await nextEvent(agent, 'close', 3000);
    expect(c).toMatchObject({ code: 1006, willReconnect: true });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
    await b.welcomed(1);
    await nextEvent(agent, 'welcome');
  });

  test('a quiet but healthy link stays up: our pings get pongs', async () => {
    const b = await bridge({ autoPong: true });
    const agent = agentFor(b, { heartbeatTimeoutMs: 300 });
    await b.welcomed(0);
    await nextEvent(agent, 'welcome');
    await sleep(900);
    expect(agent.connected).toBe(true);
    expect(b.attempts).toBe(1);
  });

  test('a broker that accepts but never welcomes counts as silent too', async () => {
    const b = await bridge({ autoPong: false });
    const agent = agentFor(b, { heartbeatTimeoutMs: 150 });
    await b.connection(0);
    await nextEvent(agent, 'reconnecting', 3000);
    await b.connection(1);
  });
});

describe('close()', () => {
  test('closes with 1000, resolves, emits close once, never redials', async () => {
    const b = await bridge();
    const agent = agentFor(b);
    const ws = await b.welcomed(0);
    await nextEvent(agent, 'welcome');
    const closes = record(agent, ['close', 'reconnecting']);
    await agent.close();
    expect((await ws.waitClose()).code).toBe(1000);
    expect(closes.map((e) => e.event)).toEqual(['close']);
    expect(closes[0]!.args[0]).toMatchObject({ willReconnect: false });
    await sleep(150);
    expect(b.attempts).toBe(1);
    expect(() => agent.send('c1', 1)).toThrow(expect.objectContaining({ code: 'closed' }));
    await agent.close();
  });

  test('close() while waiting to redial stops the redial', async () => {
    const b = await bridge();
    const agent = agentFor(b, { backoff: { initialMs: 200, maxMs: 200, jitter: 0 } });
    const ws = await b.welcomed(0);
    await nextEvent(agent, 'welcome');
    const waiting = nextEvent(agent, 'reconnecting');
    ws.ws.terminate();
    await waiting;
    const closed = nextEvent(agent, 'close');
    await agent.close();
    expect((await closed)[0]).toMatchObject({ code: 1000, willReconnect: false });
    await sleep(400);
    expect(b.attempts).toBe(1);
  });

  test('close() while dialing a dead address stops for good', async () => {
    const b = await bridge();
    const port = b.port;
    await b.stop();
    const agent = connectAgent({ url: `ws://127.0.0.1:${port}`, token: 'dev_token', logger: silent, backoff: FAST_BACKOFF });
    await nextEvent(agent, 'reconnecting');
    await agent.close();
    const again = await new FakeBridge().start(port);
    cleanup.push(() => again.stop());
    await sleep(200);
    expect(again.attempts).toBe(0);
  });
});
