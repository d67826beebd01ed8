// PROTOCOL §8 in the SDK, against a raw ws server playing the broker: the opt-in header, ids,
// frames held until `accepted` and resent after a redial in order, and acks of client messages.
import { afterEach, describe, expect, test } from 'vitest';
import { connectAgent, type Agent, type ClientMessageEvent, type ConnectAgentOptions } from '../src/index.ts';
import { FAST_BACKOFF, FakeBridge, nextEvent, silent } from './helpers.ts';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
});

async function bridge(): Promise<FakeBridge> {
  const b = await new FakeBridge().start();
  cleanup.push(() => b.stop());
  return b;
}

function agentFor(b: FakeBridge, over: Partial<ConnectAgentOptions> = {}): Agent {
  const agent = connectAgent({ url: b.url, token: 'dev_token', logger: silent, backoff: FAST_BACKOFF, ...over });
  cleanup.push(() => agent.close());
  return agent;
}

const msg = (id: string, extra: Record<string, unknown> = {}) => ({ type: 'client.message', id, clientId: 'c1', address: null, data: id, ts: 'now', ...extra });
const ACKS = { acks: true };

describe('opting in', () => {
  test('connects with X-Agent-Acks: 1 by default, without it when acks is false', async () => {
    const b = await bridge();
    agentFor(b);
    const headers = (await b.connection(0)).headers;
    expect(headers['x-agent-acks']).toBe('1');
    // With acks it also asks for accepted=inline (our extension).
    expect(headers['x-agent-accepted']).toBe('inline');
    const b2 = await bridge();
    agentFor(b2, { acks: false });
    expect((await b2.connection(0)).headers['x-agent-acks']).toBeUndefined();
    expect((await b2.connection(0)).headers['x-agent-accepted']).toBeUndefined();
  });

  test('generated ids differ between two agents (a restarted agent never reuses an id)', async () => {
    const b = await bridge();
    const one = agentFor(b);
    const two = agentFor(b);
    expect(one.send('c1', 1)).not.toBe(two.send('c1', 1));
    expect(one.send('c1', 2)).toMatch(/^a-[a-z0-9]+-2$/);
  });
});

describe('unaccepted frames', () => {
  test('are held until accepted, and resent after a redial in order, before new ones', async () => {
    const b = await bridge();
    const agent = agentFor(b);
    const ws = await b.welcomed(0, [], ACKS);
    const ids = [agent.send('c1', 1), agent.send('c1', 2), agent.broadcast(3)];
    expect((await ws.next('send')).id).toBe(ids[0]);
    await ws.next('send');
    await ws.next('broadcast');
    expect(agent.pending).toBe(3);
    ws.send({ type: 'accepted', ref: ids[0] });
    await expect.poll(() => agent.pending).toBe(2);
    ws.close(1001);
    const welcomed = nextEvent(agent, 'welcome');
    const ws2 = await b.welcomed(1, [], ACKS);
    await welcomed;
    agent.send('c1', 4);
    const again = [await ws2.next(), await ws2.next(), await ws2.next()];
    expect(again.map((f) => [f.id, f.data])).toEqual([
      [ids[1], 2],
      [ids[2], 3],
      [expect.any(String), 4],
    ]);
    for (const f of again) ws2.send({ type: 'accepted', ref: f.id });
    await expect.poll(() => agent.pending).toBe(0);
  });

  test('accepted=inline: ids riding on a frame as its "accepted" member settle those frames; the frame is handled as usual', async () => {
    const b = await bridge();
    const agent = agentFor(b);
    const ws = await b.welcomed(0, [], ACKS);
    const ids = [agent.send('c1', 1), agent.send('c1', 2), agent.send('c1', 3)];
    for (let i = 0; i < 3; i++) await ws.next('send');
    expect(agent.pending).toBe(3);
    const got = nextEvent(agent, 'message');
    // Non-string entries are ignored; an id not held changes nothing.
    ws.send({ ...msg('m-1'), accepted: [ids[0], ids[2], 7, 'not-held'] });
    expect((await got)[0].data).toBe('m-1');
    expect(agent.pending).toBe(1);
    // Riding on a system frame too.
    ws.send({ type: 'system', event: 'client.connected', clientId: 'c2', address: null, resumed: false, ts: 'now', accepted: [ids[1]] });
    await expect.poll(() => agent.pending).toBe(0);
  });

  test('a refusal (error with that ref) settles the frame: it is not resent', async () => {
    const b = await bridge();
    const agent = agentFor(b);
    const ws = await b.welcomed(0, [], ACKS);
    agent.on('error', () => undefined);
    const id = agent.send('nobody', 1);
    await ws.next('send');
    ws.send({ type: 'error', code: 'unknown_client', message: 'x', ref: id, clientIds: ['nobody'] });
    await expect.poll(() => agent.pending).toBe(0);
  });

  test('the outbox bound counts unaccepted frames: beyond it send throws outbox_full', async () => {
    const b = await bridge();
    const agent = agentFor(b, { outboxLimit: 2 });
    const ws = await b.welcomed(0, [], ACKS);
    const first = agent.send('c1', 1);
    agent.send('c1', 2);
    expect(() => agent.send('c1', 3)).toThrow(expect.objectContaining({ code: 'outbox_full' }));
    await ws.next('send');
    ws.send({ type: 'accepted', ref: first });
    await expect.poll(() => agent.pending).toBe(1);
    expect(() => agent.send('c1', 4)).not.toThrow();
  });

  test('a bridge whose welcome does not say acks (v1), or acks:false: nothing is held once written', async () => {
    const b = await bridge();
    const agent = agentFor(b, { outboxLimit: 1 });
    const ws = await b.welcomed(0);
    await expect.poll(() => agent.connected).toBe(true);
    agent.send('c1', 1);
    agent.send('c1', 2);
    expect(agent.pending).toBe(0);
    await ws.next('send');
    const b2 = await bridge();
    const off = agentFor(b2, { acks: false, outboxLimit: 1 });
    await b2.welcomed(0, [], ACKS);
    await expect.poll(() => off.connected).toBe(true);
    off.send('c1', 1);
    off.send('c1', 2);
    expect(off.pending).toBe(0);
  });
});

describe('acknowledging client messages', () => {
  test('after a synchronous listener returns', async () => {
    const b = await bridge();
    const agent = agentFor(b);
    const ws = await b.welcomed(0, [], ACKS);
    const seen: string[] = [];
    agent.on('message', (m) => {
      seen.push(m.id);
      // Written before our ack: the ack comes after the listener returned.
      agent.send('c1', `re ${m.id}`);
    });
    ws.send(msg('m1'));
    expect((await ws.next('send')).data).toBe('re m1');
    expect(await ws.next('ack')).toEqual({ type: 'ack', id: 'm1' });
    expect(seen).toEqual(['m1']);
  });

  test('after an async listener settles, not before; msg.ack() acknowledges at once', async () => {
    const b = await bridge();
    const agent = agentFor(b);
    const ws = await b.welcomed(0, [], ACKS);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    agent.on('message', async (m: ClientMessageEvent) => {
      if (m.id === 'early') m.ack();
      await gate;
      agent.send('c1', `done ${m.id}`);
    });
    ws.send(msg('slow'));
    ws.send(msg('early'));
    expect(await ws.next('ack')).toEqual({ type: 'ack', id: 'early' });
    // No ack for `slow` yet: a marker send (ours, after it) comes first.
    agent.send('c1', 'marker');
    expect((await ws.next('send')).data).toBe('marker');
    expect(ws.all((f) => f.type === 'ack').map((f) => f.id)).toEqual(['early']);
    release();
    expect((await ws.next('send')).data).toBe('done slow');
    expect(await ws.next((f) => f.type === 'ack' && f.id === 'slow')).toBeTruthy();
    // ack() twice, or the auto-ack after it, sends nothing more.
    await expect.poll(() => ws.all((f) => f.data === 'done early').length).toBe(1);
    agent.send('c1', 'marker2');
    await ws.next((f) => f.data === 'marker2');
    expect(ws.all((f) => f.type === 'ack').map((f) => f.id)).toEqual(['early', 'slow']);
  });

  test('no acks on a v1 bridge (welcome without acks) or with acks:false', async () => {
    const b = await bridge();
    const agent = agentFor(b);
    const ws = await b.welcomed(0);
    agent.on('message', (m) => agent.send('c1', m.id));
    ws.send(msg('m1'));
    await ws.next('send');
    agent.send('c1', 'marker');
    await ws.next((f) => f.data === 'marker');
    expect(ws.all((f) => f.type === 'ack')).toEqual([]);
  });

  test('redelivered is exposed; a redelivery of a message already handled is acked without running listeners again', async () => {
    const b = await bridge();
    const agent = agentFor(b);
    const ws = await b.welcomed(0, [], ACKS);
    const seen: { id: string; redelivered: boolean | undefined }[] = [];
    agent.on('message', (m) => void seen.push({ id: m.id, redelivered: m.redelivered }));
    ws.send(msg('m1'));
    await ws.next('ack');
    ws.close(1001);
    const ws2 = await b.welcomed(1, [], ACKS);
    ws2.send(msg('m1', { redelivered: true }));
    ws2.send(msg('m2', { redelivered: true }));
    expect((await ws2.next('ack')).id).toBe('m1');
    expect((await ws2.next('ack')).id).toBe('m2');
    expect(seen).toEqual([
      { id: 'm1', redelivered: undefined },
      { id: 'm2', redelivered: true },
    ]);
  });
});

describe('one ack frame per turn (welcome ackIds: the broker reads `ids`)', () => {
  test('messages read in one turn are acknowledged by one frame, after that turn\'s replies, in the same write', async () => {
    const b = await bridge();
    const agent = agentFor(b);
    const ws = await b.welcomed(0, [], { acks: true, ackIds: true });
    agent.on('message', (m) => void agent.send('c1', `re ${m.id}`));
    const raw: string[] = [];
    const sock = (ws.ws as unknown as { _socket: import('node:net').Socket })._socket;
    sock.on('data', (d: Buffer) => raw.push(d.toString('latin1')));
    // One TCP write: the SDK reads the three frames in one turn.
    sock.cork();
    for (const id of ['m1', 'm2', 'm3']) ws.send(msg(id));
    sock.uncork();
    expect(await ws.next('ack')).toEqual({ type: 'ack', id: 'm1', ids: ['m2', 'm3'] });
    expect(ws.all('send').map((f) => f.data)).toEqual(['re m1', 're m2', 're m3']);
    // Replies and the ack left in one write (one read here: loopback keeps a small write whole).
    const withAck = raw.find((r) => r.includes('"type":"ack"'))!;
    expect(withAck.includes('re m1') && withAck.includes('re m3')).toBe(true);
    // An async listener's ack comes in its own turn, alone (the v2 shape).
    agent.removeAllListeners('message');
    let finish!: () => void;
    agent.on('message', () => new Promise<void>((r) => (finish = r)));
    ws.send(msg('slow'));
    await new Promise((r) => setTimeout(r, 30));
    expect(ws.all('ack')).toHaveLength(1);
    finish();
    expect(await ws.next('ack')).toEqual({ type: 'ack', id: 'slow' });
  });

  test('without ackIds in the welcome every ack is its own v2 frame', async () => {
    const b = await bridge();
    const agent = agentFor(b);
    const ws = await b.welcomed(0, [], ACKS);
    agent.on('message', () => undefined);
    const sock = (ws.ws as unknown as { _socket: import('node:net').Socket })._socket;
    sock.cork();
    for (const id of ['m1', 'm2']) ws.send(msg(id));
    sock.uncork();
    expect(await ws.next('ack')).toEqual({ type: 'ack', id: 'm1' });
    expect(await ws.next('ack')).toEqual({ type: 'ack', id: 'm2' });
  });
});
