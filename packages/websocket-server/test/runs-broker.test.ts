// Agent runs through the broker (PROTOCOL §9): a 10,000-delta reply to a client that is away the
// whole time resumes at the default buffer bounds; a resume mid-token; cancel routed to the
// run's agent; a disconnect never cancels; a slow client's mailbox coalesces.
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { TextAssembler } from '@agent-bridge/common';
import { agent, broker, client, sleep, until, type Frame, type Peer } from './helpers.ts';

/** The broker's defaults where BASE_ENV shortens them (RESUME_BUFFER_* are defaults already). */
const DEFAULTS = { MAX_MESSAGE_BYTES: '65536' };

const socketOf = (p: Peer) => (p.ws as unknown as { _socket: Socket })._socket;

const START = (runId: string, messageId: string) => ({ type: 'TEXT_MESSAGE_START', runId, threadId: 'th', messageId, role: 'assistant' });
const CONTENT = (runId: string, messageId: string, delta: string) => ({ type: 'TEXT_MESSAGE_CONTENT', runId, threadId: 'th', messageId, delta });

/** A reply of `n` deltas: words, accents, CJK, and emoji split between their two UTF-16 halves. */
function reply(n: number): string[] {
  const words = ['Once ', 'upon ', 'a ', 'time ', 'é', '中文 ', '"quoted" ', 'line\n'];
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    if (i % 50 === 10) out.push('🐉'[0]!); // the high half…
    else if (i % 50 === 11) out.push(`${'🐉'[1]!} `); // …and the low half in the next delta
    else out.push(words[i % words.length]!);
  }
  return out;
}

/** Wait until the broker has handled everything `a` sent so far (frames are handled in order). */
let barriers = 0;
async function handled(a: Peer): Promise<void> {
  const ref = `barrier-${++barriers}`;
  a.send({ type: 'send', id: ref, to: 'nobody-at-all', data: 0 });
  await a.next((f) => f.type === 'error' && f.ref === ref, 20_000);
}

async function metric(url: string, name: string): Promise<number> {
  const text = await fetch(`${url}/metrics`).then((r) => r.text());
  const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

/** Apply the delta events among `frames` (in order) with the offset rule. */
function assemble(frames: Frame[], into = new TextAssembler()): TextAssembler {
  for (const f of frames) if (f.type === 'message' && f.data?.type === 'TEXT_MESSAGE_CONTENT') into.apply(f.data, f.data.messageId);
  return into;
}

describe('runs: resume and coalescing', () => {
  it('a client away for a whole 10,000-delta reply resumes (resumed:true) at the default bounds and gets the exact text', async () => {
    const b = await broker(DEFAULTS);
    const a = await agent(b);
    const c = await client(b, 'away');
    c.ws.terminate();
    await a.next((f) => f.event === 'client.disconnected' && f.clientId === 'away');
    const deltas = reply(10_000);
    a.send({ type: 'send', to: 'away', data: { type: 'RUN_STARTED', runId: 'r1', threadId: 'th' } });
    a.send({ type: 'send', to: 'away', data: START('r1', 'm1') });
    // One frame per delta, without offsets: the broker stamps them.
    for (const d of deltas) a.send({ type: 'send', to: 'away', data: CONTENT('r1', 'm1', d) });
    a.send({ type: 'send', to: 'away', data: { type: 'TEXT_MESSAGE_END', runId: 'r1', threadId: 'th', messageId: 'm1' } });
    a.send({ type: 'send', to: 'away', data: { type: 'RUN_FINISHED', runId: 'r1', threadId: 'th' } });
    await handled(a);
    const resumeBytes = await metric(b.url, 'agent_bridge_resume_buffer_bytes');

    const r = await client(b, 'away', { lastSeq: c.welcome.lastSeq, epoch: c.welcome.epoch });
    expect(r.welcome).toMatchObject({ resumed: true, lastSeq: c.welcome.lastSeq + deltas.length + 4 });
    const replay: Frame[] = [];
    for (let i = 0; i < r.welcome.replayed; i++) replay.push(await r.next('message'));
    expect(assemble(replay).text('m1')).toBe(deltas.join(''));
    expect(replay.at(-1)!.data.type).toBe('RUN_FINISHED');
    // Every seq of the reply is accounted for by exactly one replayed frame.
    const covered = replay.reduce((n, f) => n + (f.merged ? f.merged[1] - f.merged[0] + 1 : 1), 0);
    expect(covered).toBe(deltas.length + 4);
    const bytes = replay.reduce((n, f) => n + Buffer.byteLength(JSON.stringify(f)), 0);
    for (const f of replay) expect(Buffer.byteLength(JSON.stringify(f))).toBeLessThanOrEqual(65536);
    console.info(
      `10,000-delta reply (${deltas.join('').length} UTF-16 units): resume buffer ${r.welcome.replayed} frames, ` +
        `~${bytes} bytes replayed; agent_bridge_resume_buffer_bytes ${resumeBytes}`,
    );
    expect(r.welcome.replayed).toBeLessThan(20);
  }, 30_000);

  it('a run streamed while the client disconnects mid-token and resumes: the merged replay completes the text', async () => {
    const b = await broker(DEFAULTS);
    const a = await agent(b);
    const c = await client(b, 'mid');
    const deltas = reply(400);
    a.send({ type: 'send', to: 'mid', data: START('r2', 'm2') });
    // Live up to a delta that ends between the two halves of an emoji (index 10 is the high half).
    const cut = 211;
    for (const d of deltas.slice(0, cut)) a.send({ type: 'send', to: 'mid', data: CONTENT('r2', 'm2', d) });
    await until(() => c.all('message').length === cut + 1, 5000, 'the live part');
    const live = c.all('message');
    const lastSeq = Math.max(...live.map((f) => f.seq));
    c.ws.terminate();
    await a.next((f) => f.event === 'client.disconnected');
    for (const d of deltas.slice(cut)) a.send({ type: 'send', to: 'mid', data: CONTENT('r2', 'm2', d) });
    await handled(a);

    const r = await client(b, 'mid', { lastSeq });
    expect(r.welcome.resumed).toBe(true);
    const replay: Frame[] = [];
    for (let i = 0; i < r.welcome.replayed; i++) replay.push(await r.next('message'));
    // The buffer merged the live part with the rest: the first replayed frame starts before lastSeq.
    expect(replay[0]!.merged[0]).toBeLessThanOrEqual(lastSeq);
    expect(replay[0]!.seq).toBeGreaterThan(lastSeq);
    const text = assemble(replay, assemble(live)).text('m2');
    expect(text).toBe(deltas.join(''));
    expect(deltas.slice(0, cut).join('').endsWith('🐉'[0]!)).toBe(true);
  });

  /**
   * Pause the client's reading and fill every buffer on the way with broadcasts (from another
   * name) until the broker's mailbox for it is full and drops one: the client is now "slow".
   */
  async function clog(url: string, other: Peer, c: Peer): Promise<void> {
    socketOf(c).pause();
    const pad = 'x'.repeat(20_000);
    for (let n = 0; (await metric(url, 'agent_bridge_broadcasts_dropped_total')) === 0; ) {
      if (n > 5000) throw new Error('the mailbox never filled');
      for (let i = 0; i < 10; i++) other.send({ type: 'broadcast', data: { pad, n: n++ } });
      await sleep(10);
    }
  }

  it("a slow client's mailbox coalesces (never closed 1013), and the text it finally reads is exact", async () => {
    const b = await broker({ ...DEFAULTS, MAILBOX_LIMIT: '5', SOCKET_BUFFER_BYTES: '1024' });
    const a = await agent(b);
    const other = await agent(b, { name: 'other' });
    const c = await client(b, 'slow');
    a.send({ type: 'send', to: 'slow', data: START('r3', 'm3') });
    await c.next('message');
    await clog(b.url, other, c);
    const deltas = reply(3000);
    // Direct frames: without coalescing, the sixth waiting one would close the client 1013.
    for (const d of deltas) a.send({ type: 'send', to: 'slow', data: CONTENT('r3', 'm3', d) });
    await handled(a);
    socketOf(c).resume();
    await until(() => assemble(c.all()).text('m3').length === deltas.join('').length, 10_000, 'the whole text');
    expect(assemble(c.all()).text('m3')).toBe(deltas.join(''));
    expect(c.closed).toBeUndefined();
    const got = c.all((f) => f.data?.type === 'TEXT_MESSAGE_CONTENT');
    expect(got.length).toBeLessThan(20);
    expect(got.some((f) => f.merged)).toBe(true);
    // In seq order, ranges never overlapping, and together exactly the 3,000 deltas.
    for (let i = 1; i < got.length; i++) expect(got[i]!.merged?.[0] ?? got[i]!.seq).toBeGreaterThan(got[i - 1]!.seq);
    expect(got.reduce((n, f) => n + (f.merged ? f.merged[1] - f.merged[0] + 1 : 1), 0)).toBe(deltas.length);
  });

  it('deltas never merge across a broadcast dropped from a full mailbox: every seq is delivered, merged or reported once', async () => {
    // Room for the 12 delta groups below plus broadcasts to evict, so nothing direct overflows.
    const b = await broker({ ...DEFAULTS, MAILBOX_LIMIT: '20', SOCKET_BUFFER_BYTES: '1024' });
    const a = await agent(b);
    const other = await agent(b, { name: 'other' });
    const c = await client(b, 'dropper');
    a.send({ type: 'send', to: 'dropper', data: START('r4', 'm4') });
    const first = (await c.next('message')).seq as number;
    await clog(b.url, other, c);
    const deltas = reply(120);
    for (const [i, d] of deltas.entries()) {
      // Three broadcasts after every ten deltas: the oldest broadcasts are dropped as the queue
      // fills, these among them, and the deltas on either side of them must stay apart.
      if (i > 0 && i % 10 === 0) {
        await handled(a);
        for (let k = 0; k < 3; k++) other.send({ type: 'broadcast', data: { i, k } });
        await handled(other);
      }
      a.send({ type: 'send', to: 'dropper', data: CONTENT('r4', 'm4', d) });
    }
    await handled(a);
    a.send({ type: 'send', to: 'dropper', data: { type: 'TEXT_MESSAGE_END', runId: 'r4', threadId: 'th', messageId: 'm4' } });
    await handled(a);
    socketOf(c).resume();
    await until(() => c.all((f) => f.data?.type === 'TEXT_MESSAGE_END').length === 1, 10_000, 'the end of the message');
    await until(() => c.all((f) => f.event === 'messages.dropped').length > 0, 5000, 'the drop report');
    expect(assemble(c.all()).text('m4')).toBe(deltas.join(''));
    expect(c.closed).toBeUndefined();
    const seqd = c.all((f) => typeof f.seq === 'number' && f.seq > first);
    const last = Math.max(...seqd.map((f) => f.seq as number));
    const covered = seqd.reduce((n, f) => n + (f.merged ? f.merged[1] - f.merged[0] + 1 : 1), 0);
    const dropped = c.all((f) => f.event === 'messages.dropped').reduce((n, r) => n + (r.count as number), 0);
    // Each seq after the START once: delivered alone, inside one merged range, or counted dropped.
    expect(covered + dropped).toBe(last - first);
    // One frame per group of ten: merged within a group, never across the broadcasts between groups.
    const got = c.all((f) => f.data?.type === 'TEXT_MESSAGE_CONTENT');
    expect(got.map((f) => f.merged[1] - f.merged[0] + 1)).toEqual(Array(12).fill(10));
    const droppedSeqs = c.all((f) => f.event === 'messages.dropped');
    expect(droppedSeqs.some((r) => got.some((f) => r.fromSeq < f.merged[0] && f.merged[1] < r.toSeq))).toBe(true);
  });
});

describe('runs: cancel', () => {
  /** Which connection of a pool this client is pinned to: the one a message to the name reaches. */
  async function pinned(c: Peer, name: string, pool: Peer[]): Promise<Peer> {
    c.send({ type: 'message', id: `probe-${name}`, agent: name, data: 'probe' });
    await until(() => pool.some((x) => x.all((f) => f.ref === `probe-${name}`).length > 0), 5000, `a probe to ${name}`);
    return pool.find((x) => x.all((f) => f.ref === `probe-${name}`).length > 0)!;
  }

  it("reaches the pinned connection of the run's agent (two names, pools of two), whatever name the client gives", async () => {
    const b = await broker();
    const alpha = [await agent(b, { name: 'alpha' }), await agent(b, { name: 'alpha' })];
    const beta = [await agent(b, { name: 'beta' }), await agent(b, { name: 'beta' })];
    const c = await client(b, 'stopper', { address: '0x52908400098527886E0F7030069857D2E4169EE7' });
    const pa = await pinned(c, 'alpha', alpha);
    const pb = await pinned(c, 'beta', beta);
    // Each run's events come from the connection *not* pinned: the name counts, not the socket.
    alpha.find((x) => x !== pa)!.send({ type: 'send', to: 'stopper', data: { type: 'RUN_STARTED', runId: 'ra', threadId: 't' } });
    beta.find((x) => x !== pb)!.send({ type: 'send', to: 'stopper', data: { type: 'RUN_STARTED', runId: 'rb', threadId: 't' } });
    await until(() => c.all('message').length === 2, 5000, 'both runs');
    c.send({ type: 'cancel', runId: 'ra', agent: 'beta', id: 'x-1' });
    c.send({ type: 'cancel', runId: 'rb', id: 'x-2' });
    const ca = await pa.next('client.cancel');
    expect(Object.keys(ca)).toEqual(['type', 'clientId', 'address', 'runId', 'ts']);
    expect(ca).toMatchObject({ type: 'client.cancel', clientId: 'stopper', address: '0x52908400098527886E0F7030069857D2E4169EE7', runId: 'ra' });
    expect(await pb.next('client.cancel')).toMatchObject({ runId: 'rb', clientId: 'stopper' });
    const stray = [...alpha, ...beta].flatMap((x) => x.all('client.cancel'));
    expect(stray).toHaveLength(2);
    expect(c.all('error')).toEqual([]);
    // Once the run ended, the broker forgets it: a late cancel goes to the name given.
    alpha[0]!.send({ type: 'send', to: 'stopper', data: { type: 'RUN_FINISHED', runId: 'ra', threadId: 't' } });
    await until(() => c.all('message').length === 3, 5000, 'the end of ra');
    c.send({ type: 'cancel', runId: 'ra', agent: 'beta' });
    expect(await pb.next('client.cancel')).toMatchObject({ runId: 'ra' });
  });

  it('an unknown run goes to `agent` (default `default`), waits while no connection of the name is there, and errors carry ref', async () => {
    const b = await broker({ CLIENT_RATE_BURST: '4', CLIENT_RATE_PER_SEC: '1' });
    const c = await client(b, 'lonely');
    c.send({ type: 'cancel', runId: 'nobody-knows', id: 'k-1' });
    c.send({ type: 'cancel', runId: 'named', agent: 'trader', id: 'k-2' });
    await sleep(50);
    const def = await agent(b);
    const trader = await agent(b, { name: 'trader' });
    // Waiting cancels are delivered right after the welcome.
    expect(await def.next('client.cancel')).toMatchObject({ clientId: 'lonely', runId: 'nobody-knows', address: null });
    expect(await trader.next('client.cancel')).toMatchObject({ runId: 'named' });
    // Like a message: invalid frames and the rate limit answer with the frame's id as ref.
    c.send({ type: 'cancel', id: 'k-3' });
    expect(await c.next('error')).toMatchObject({ code: 'invalid_message', ref: 'k-3' });
    c.send({ type: 'cancel', runId: 'r', id: 'k-4' });
    c.send({ type: 'cancel', runId: 'r', id: 'k-5' });
    expect(await c.next('error')).toMatchObject({ code: 'rate_limited', ref: 'k-5' });
  });

  it('with no agent of the name and no room to wait, a cancel is answered agent_unavailable with its ref', async () => {
    const b = await broker({ AGENT_QUEUE_LIMIT: '0' });
    const c = await client(b, 'nowait');
    c.send({ type: 'cancel', runId: 'r', agent: 'absent', id: 'k-9' });
    expect(await c.next('error')).toMatchObject({ code: 'agent_unavailable', ref: 'k-9' });
  });

  it('a client disconnecting never cancels: the run goes on and waits in the resume buffer', async () => {
    const b = await broker();
    const a = await agent(b);
    const c = await client(b, 'leaver');
    a.send({ type: 'send', to: 'leaver', data: { type: 'RUN_STARTED', runId: 'rl', threadId: 't' } });
    await c.next('message');
    c.ws.terminate();
    await a.next((f) => f.event === 'client.disconnected');
    a.send({ type: 'send', to: 'leaver', data: { type: 'RUN_FINISHED', runId: 'rl', threadId: 't' } });
    const again = await client(b, 'leaver', { lastSeq: 1 });
    expect(again.welcome).toMatchObject({ resumed: true, replayed: 1 });
    // A normal close ends the session; still no cancel.
    again.close(1000);
    await a.next((f) => f.event === 'client.expired');
    expect(a.all('client.cancel')).toEqual([]);
  });
});
