import { describe, expect, it } from 'vitest';
import type { Socket } from 'node:net';
import { agent, broker, client, sleep, until, type Frame, type Peer } from './helpers.ts';

const ENV = {
  MAILBOX_LIMIT: '5',
  // 1 MiB: a client that reads keeps up with the bursts below; a paused one fills it and overflows.
  SOCKET_BUFFER_BYTES: String(1 << 20),
  MAX_MESSAGE_BYTES: '65536',
  RESUME_BUFFER_FRAMES: '100000',
  RESUME_BUFFER_BYTES: String(256 * 1024 * 1024),
};
const CHUNK = 'x'.repeat(20_000);

const socketOf = (p: Peer) => (p.ws as unknown as { _socket: Socket })._socket;

async function metric(url: string, name: string): Promise<number> {
  const text = await fetch(`${url}/metrics`).then((r) => r.text());
  const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

describe('backpressure (slow consumers)', () => {
  it('drops broadcasts for a paused upstream and reports them with messages.dropped', async () => {
    const b = await broker(ENV);
    const a = await agent(b);
    const slow = await client(b, 'slow');
    const fast = await client(b, 'fast');
    socketOf(slow).pause();
    let sent = 0;
    const burst = async (n: number) => {
      for (let i = 0; i < n; i++) a.send({ type: 'broadcast', data: { n: sent++, pad: CHUNK } });
      await sleep(10);
    };
    while ((await metric(b.url, 'agent_bridge_broadcasts_dropped_total')) === 0) {
      if (sent > 5000) throw new Error('nothing was ever dropped');
      await burst(10);
    }
    await burst(10);
    // The fast client got everything.
    await until(() => fast.all('message').length === sent, 10_000, 'fast client to get every broadcast');

    socketOf(slow).resume();
    const received = () => slow.all('message');
    const reports = () => slow.all((f) => f.type === 'system' && f.event === 'messages.dropped');
    const dropped = () => reports().reduce((n, r) => n + r.count, 0);
    await until(() => received().length + dropped() === sent, 10_000, 'every broadcast to be received or reported');
    expect(dropped()).toBeGreaterThan(0);
    expect(slow.closed).toBeUndefined();

    // Every missing seq is inside a report's range, and the counts add up.
    const messages = received();
    const firstSeq = Math.min(...messages.map((m) => m.seq), ...reports().map((r) => r.fromSeq));
    const gotSeqs = new Set(messages.map((m) => m.seq));
    const reportSeqs = new Set(reports().map((r) => r.seq));
    const lastSeq = Math.max(...messages.map((m) => m.seq), ...reports().map((r) => r.seq));
    const missing: number[] = [];
    for (let s = firstSeq; s <= lastSeq; s++) if (!gotSeqs.has(s) && !reportSeqs.has(s)) missing.push(s);
    expect(missing.length).toBe(dropped());
    for (const s of missing) expect(reports().some((r) => r.fromSeq <= s && s <= r.toSeq)).toBe(true);
    for (const r of reports()) expect(r.seq).toBeGreaterThan(r.toSeq);
    // Order is kept among what arrived.
    const ns = messages.map((m) => m.data.n);
    expect([...ns].sort((x, y) => x - y)).toEqual(ns);
    expect(await metric(b.url, 'agent_bridge_broadcasts_dropped_total')).toBe(dropped());
  });

  it('closes a paused upstream with 1013 when direct frames overflow; the session is kept and a resume returns them', async () => {
    const b = await broker(ENV);
    const a = await agent(b);
    const slow = await client(b, 'slow');
    await a.event('client.connected');
    socketOf(slow).pause();
    let sent = 0;
    while (!a.all((f) => f.event === 'client.disconnected').length) {
      if (sent > 5000) throw new Error('never closed');
      for (let i = 0; i < 10; i++) a.send({ type: 'send', to: 'slow', data: { n: sent++, pad: CHUNK } });
      await sleep(10);
    }
    expect(a.all((f) => f.event === 'client.disconnected')[0]).toMatchObject({ clientId: 'slow', resumable: true });
    // A few more while it is away: kept for the resume too.
    for (let i = 0; i < 5; i++) a.send({ type: 'send', to: 'slow', data: { n: sent++, pad: '' } });
    socketOf(slow).resume();
    expect((await slow.waitClose(10_000)).code).toBe(1013);
    const got = slow.all('message');
    const lastSeq = got.length ? got[got.length - 1]!.seq : 0;
    await sleep(50);
    const back = await client(b, 'slow', { lastSeq, epoch: b.epoch });
    expect(back.welcome).toMatchObject({ resumed: true, replayed: sent - got.length });
    const replay: Frame[] = [];
    while (replay.length < sent - got.length) replay.push(await back.next('message'));
    expect([...got, ...replay].map((m) => m.data.n)).toEqual([...Array(sent).keys()]);
    expect(await a.event('client.connected')).toMatchObject({ clientId: 'slow', resumed: true });
  });

  it('keeps its own memory bounded: a client that never reads is cut, not buffered for ever', async () => {
    const b = await broker({ ...ENV, RESUME_BUFFER_BYTES: String(1024 * 1024) });
    const a = await agent(b);
    const slow = await client(b, 'slow');
    socketOf(slow).pause();
    for (let round = 0; round < 1000 && !a.all((f) => f.event === 'client.disconnected').length; round++) {
      for (let i = 0; i < 10; i++) a.send({ type: 'send', to: 'slow', data: CHUNK });
      await sleep(10);
    }
    expect(a.all((f) => f.event === 'client.disconnected')).toHaveLength(1);
    // The resume buffer is bounded too: a resume from the start is refused rather than partial.
    slow.ws.terminate();
    const back = await client(b, 'slow', { lastSeq: 0 });
    expect(back.welcome.resumed).toBe(false);
  });

  it('an agent that comes back to more waiting messages than MAILBOX_LIMIT gets them all, in order, without a 1013', async () => {
    const b = await broker({ ...ENV, SOCKET_BUFFER_BYTES: '1024', AGENT_QUEUE_LIMIT: '200', WAIT_QUEUE_CLIENT_BYTES: String(64 << 20) });
    const c = await client(b, 'eager');
    const big = 'y'.repeat(60_000);
    for (let i = 0; i < 150; i++) c.send({ type: 'message', agent: 'late', id: `w${i}`, data: { i, big } });
    for (let i = 0; i < 150; i++) await c.next((f: Frame) => f.type === 'accepted' && f.ref === `w${i}`);
    // Its queue (150 × 60 KB) leaves in one burst, far beyond the socket buffer and MAILBOX_LIMIT (5):
    // bounded by AGENT_QUEUE_LIMIT already, it must not cut the agent.
    const late = await agent(b, { name: 'late' });
    const got: number[] = [];
    for (let i = 0; i < 150; i++) got.push((await late.next('client.message', 10_000)).data.i);
    expect(got).toEqual([...Array(150).keys()]);
    expect(late.closed).toBeUndefined();
  });

  it('an agent that answers each of a burst of waiting messages at once is not cut: the `accepted` answers to its own frames wait beyond MAILBOX_LIMIT', async () => {
    // 64 KiB: the burst (150 × 60 KB) is far beyond it; the 150 answers (~9 KB) are not.
    const b = await broker({ ...ENV, SOCKET_BUFFER_BYTES: String(64 << 10), AGENT_QUEUE_LIMIT: '200', WAIT_QUEUE_CLIENT_BYTES: String(64 << 20) });
    const c = await client(b, 'eager');
    const big = 'y'.repeat(60_000);
    for (let i = 0; i < 150; i++) c.send({ type: 'message', agent: 'late', id: `w${i}`, data: { i, big } });
    for (let i = 0; i < 150; i++) await c.next((f: Frame) => f.type === 'accepted' && f.ref === `w${i}`);
    const late = await agent(b, { name: 'late' });
    // As the SDK does: every message read is answered at once, with an id (§8), while the rest of
    // the burst still fills the socket; each answer's `accepted` queues behind it.
    for (let i = 0; i < 150; i++) {
      const m = await late.next('client.message', 10_000);
      expect(m.data.i).toBe(i);
      late.send({ type: 'send', id: `r${i}`, to: m.clientId, data: { echo: i } });
    }
    for (let i = 0; i < 150; i++) expect((await late.next((f: Frame) => f.type === 'accepted', 10_000)).ref).toBe(`r${i}`);
    const echoes: number[] = [];
    for (let i = 0; i < 150; i++) echoes.push((await c.next('message', 10_000)).data.echo);
    expect(echoes).toEqual([...Array(150).keys()]);
    expect(late.closed).toBeUndefined();
  });

});
