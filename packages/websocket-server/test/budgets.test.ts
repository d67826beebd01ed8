// Global budgets of the broker (issue 9): wait-queue bytes, resume bytes with shared broadcast
// bodies, sessions in total and per IP, agent connections, TCP connections, header timeouts.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { PROXY_TOKEN, agent, broker, client, open, refused, sleep, until, type Peer } from './helpers.ts';
import type { BrokerHandle } from '../src/index.ts';

async function metric(b: BrokerHandle, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${b.url}/metrics`)).text();
  const m = new RegExp(`^${name}${labels.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text);
  if (!m) throw new Error(`metric ${name}${labels} not found`);
  return Number(m[1]);
}

const upstreamUrl = (b: BrokerHandle, id: string) => `${b.wsUrl}/ws/client/${id}`;
const proxyHeaders = (ip?: string) => ({ Authorization: `Bearer ${PROXY_TOKEN}`, ...(ip ? { 'X-Client-Ip': ip } : {}) });

/** Connect a client and drop its socket: a resumable session that keeps what it is sent. */
async function awaySession(b: BrokerHandle, id: string): Promise<void> {
  const c = await client(b, id);
  c.ws.terminate();
  await c.waitClose();
}

describe('wait-queue budget', () => {
  it('refuses a message over WAIT_QUEUE_BUDGET_BYTES with over_capacity (ref), and one over WAIT_QUEUE_CLIENT_BYTES with agent_unavailable', async () => {
    // 3 KB messages: the per-client share holds 3 of them, the global budget 5.
    const b = await broker({ WAIT_QUEUE_BUDGET_BYTES: String(5 * 3300), WAIT_QUEUE_CLIENT_BYTES: String(3 * 3300) });
    const c1 = await client(b, 'c1');
    const c2 = await client(b, 'c2');
    const text = 'x'.repeat(3000);
    for (let i = 0; i < 4; i++) c1.send({ type: 'message', id: `a${i}`, agent: `absent${i}`, data: { text } });
    // The fourth is over c1's own share: the usual bound answer.
    expect(await c1.next('error')).toMatchObject({ code: 'agent_unavailable', ref: 'a3' });
    for (let i = 0; i < 3; i++) c2.send({ type: 'message', id: `b${i}`, agent: 'absent', data: { text } });
    // c2's third would pass the global budget (3 + 2 held): the broker is full.
    expect(await c2.next('error')).toMatchObject({ code: 'over_capacity', ref: 'b2' });
    expect(await metric(b, 'agent_bridge_wait_queue_bytes')).toBeLessThanOrEqual(5 * 3300);
    expect(await metric(b, 'agent_bridge_capacity_refusals_total', '{budget="wait_queue"}')).toBe(1);
    // What was accepted is still delivered when the agent comes.
    const a = await agent(b, { name: 'absent' });
    expect((await a.next('client.message')).ref).toBe('b0');
    expect((await a.next('client.message')).ref).toBe('b1');
    expect(await metric(b, 'agent_bridge_wait_queue_bytes')).toBeLessThanOrEqual(3 * 3300);
  });
});

describe('resume budget', () => {
  it('keeps a broadcast once for every session: 40 sessions × 10 × 4 KB fit a budget a tenth of their copies', async () => {
    // Copies would be 40 × 10 × ~4.1 KB ≈ 1.6 MB; shared they are ~41 KB + 400 × 64 B of refs.
    const b = await broker({ RESUME_BUDGET_BYTES: String(160 * 1024) });
    const ids = Array.from({ length: 40 }, (_, i) => `s${i}`);
    for (const id of ids) await awaySession(b, id);
    const a = await agent(b);
    const text = 'y'.repeat(4000);
    for (let i = 0; i < 10; i++) a.send({ type: 'broadcast', data: { text, i } });
    await until(async () => (await metric(b, 'agent_bridge_resume_buffer_bytes')) > 40_000, 5000, 'the broadcasts to be held');
    const held = await metric(b, 'agent_bridge_resume_buffer_bytes');
    expect(held).toBeLessThan(80_000);
    expect(await metric(b, 'agent_bridge_resume_evicted_frames_total')).toBe(0);
    // Every session resumes in full, each with its own seqs.
    for (const id of ['s0', 's39']) {
      const c = await client(b, id, { lastSeq: 1 });
      expect(c.welcome).toMatchObject({ resumed: true, replayed: 10 });
      const got = [];
      for (let i = 0; i < 10; i++) got.push(await c.next('message'));
      expect(got.map((f) => f.seq)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
      expect(got.map((f) => f.data.i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(got.every((f) => f.data.text === text)).toBe(true);
    }
  });

  it('at the budget evicts the oldest frames of the session holding the most: its resume is honestly false, a small one resumes in full', async () => {
    const b = await broker({ RESUME_BUDGET_BYTES: String(64 * 1024) });
    await awaySession(b, 'hog');
    await awaySession(b, 'small');
    const a = await agent(b);
    a.send({ type: 'send', to: 'small', data: { text: 'keep me' } });
    const big = 'z'.repeat(6000);
    // ~120 KB for the hog alone: twice the budget.
    for (let i = 0; i < 20; i++) a.send({ type: 'send', to: 'hog', data: { text: big, i } });
    await until(async () => (await metric(b, 'agent_bridge_resume_evicted_frames_total')) > 0, 5000, 'an eviction');
    expect(await metric(b, 'agent_bridge_resume_buffer_bytes')).toBeLessThanOrEqual(64 * 1024);
    const small = await client(b, 'small', { lastSeq: 1 });
    expect(small.welcome).toMatchObject({ resumed: true, replayed: 1 });
    expect((await small.next('message')).data.text).toBe('keep me');
    const hog = await client(b, 'hog', { lastSeq: 1 });
    expect(hog.welcome).toMatchObject({ resumed: false, replayed: 0 });
    // The broker goes on serving: a new frame to the hog arrives live.
    a.send({ type: 'send', to: 'hog', data: { text: 'after' } });
    expect((await hog.next('message')).data.text).toBe('after');
  });
});

describe('session caps', () => {
  it('MAX_SESSIONS: a new session beyond is 503 over_capacity; resuming or replacing a known one is allowed', async () => {
    const b = await broker({ MAX_SESSIONS: '2' });
    const c1 = await client(b, 'c1');
    await awaySession(b, 'c2');
    const r = await refused(upstreamUrl(b, 'c3'), { headers: proxyHeaders() });
    expect(r).toMatchObject({ status: 503, body: { error: { code: 'over_capacity' } } });
    // The away session resumes, c1's socket is replaced: both known, both allowed.
    const back = await client(b, 'c2', { lastSeq: 0 });
    expect(back.welcome.resumed).toBe(true);
    const again = await client(b, 'c1');
    expect((await c1.waitClose()).code).toBe(4500);
    // A normal close ends a session at once: room for a new one.
    again.close(1000);
    await again.waitClose();
    await until(async () => (await metric(b, 'agent_bridge_sessions', '{state="connected"}') + await metric(b, 'agent_bridge_sessions', '{state="detached"}')) === 1, 5000, 'c1 to expire');
    await client(b, 'c3');
    expect(await metric(b, 'agent_bridge_capacity_refusals_total', '{budget="sessions"}')).toBe(1);
  });

  it('MAX_SESSIONS_PER_IP counts X-Client-Ip (normalised); other addresses and no header are not held back', async () => {
    const b = await broker({ MAX_SESSIONS_PER_IP: '2' });
    const ip = '203.0.113.7';
    await open(upstreamUrl(b, 'p1'), { headers: proxyHeaders(ip) });
    await open(upstreamUrl(b, 'p2'), { headers: proxyHeaders(`::ffff:${ip}`) });
    expect(await refused(upstreamUrl(b, 'p3'), { headers: proxyHeaders(ip) })).toMatchObject({
      status: 503,
      body: { error: { code: 'over_capacity' } },
    });
    await open(upstreamUrl(b, 'q1'), { headers: proxyHeaders('2001:db8::1') });
    await open(upstreamUrl(b, 'n1'), { headers: proxyHeaders() });
    await open(upstreamUrl(b, 'n2'), { headers: proxyHeaders() });
    await open(upstreamUrl(b, 'n3'), { headers: proxyHeaders() });
    // A known session from that address may always come back.
    const p1 = await open(`${upstreamUrl(b, 'p1')}?lastSeq=0`, { headers: proxyHeaders(ip) });
    expect((await p1.next('welcome')).resumed).toBe(true);
    expect(await refused(upstreamUrl(b, 'bad'), { headers: proxyHeaders('not-an-ip') })).toMatchObject({ status: 400 });
  });

  it('MAX_AGENT_CONNECTIONS: one more agent is 503 over_capacity until one goes', async () => {
    const b = await broker({ MAX_AGENT_CONNECTIONS: '1' });
    const a = await agent(b);
    const r = await refused(`${b.wsUrl}/ws/agent`, { headers: { Authorization: 'Bearer test_agent_token' } });
    expect(r).toMatchObject({ status: 503, body: { error: { code: 'over_capacity' } } });
    a.ws.terminate();
    await until(async () => (await metric(b, 'agent_bridge_connections', '{kind="agent"}')) === 0, 5000, 'the agent to go');
    await agent(b);
  });
});

describe('connections and timeouts', () => {
  const rawConnect = (port: number) =>
    new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(s));
      s.on('error', reject);
    });
  const closed = (s: net.Socket) => new Promise<void>((r) => (s.destroyed ? r() : s.once('close', () => r())));

  it('MAX_CONNECTIONS: a connection beyond is dropped at once; the broker serves again once one goes', async () => {
    const b = await broker({ MAX_CONNECTIONS: '3' });
    const socks = [await rawConnect(b.port), await rawConnect(b.port), await rawConnect(b.port)];
    await sleep(50);
    const extra = await rawConnect(b.port);
    extra.on('error', () => undefined);
    await closed(extra);
    socks[0]!.destroy();
    await until(
      async () => {
        try {
          return (await fetch(`${b.url}/healthz`)).status === 200;
        } catch {
          return false;
        }
      },
      5000,
      'a free slot',
    );
    for (const s of socks) s.destroy();
  });

  it('cuts a slowloris request (headers trickling in) after HTTP_HEADERS_TIMEOUT_MS', async () => {
    const b = await broker({ HTTP_HEADERS_TIMEOUT_MS: '300' });
    const s = await rawConnect(b.port);
    s.on('error', () => undefined);
    let answer = '';
    s.on('data', (c) => (answer += c.toString()));
    s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    const t0 = Date.now();
    const drip = setInterval(() => !s.destroyed && s.write(`X-Drip-${Date.now()}: 1\r\n`), 50);
    try {
      await Promise.race([closed(s), sleep(4000).then(() => Promise.reject(new Error('still open after 4 s')))]);
    } finally {
      clearInterval(drip);
    }
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(answer).toMatch(/^HTTP\/1.1 408/);
  });
});

describe('GET /metrics access', () => {
  it('with METRICS_TOKEN: 401 (JSON body) without the bearer token, 200 with it', async () => {
    const b = await broker({ METRICS_TOKEN: 'metrics-token-0123456789' });
    const no = await fetch(`${b.url}/metrics`);
    expect(no.status).toBe(401);
    expect(await no.json()).toMatchObject({ error: { code: 'unauthorized' } });
    const wrong = await fetch(`${b.url}/metrics`, { headers: { Authorization: 'Bearer metrics-token-0123456788' } });
    expect(wrong.status).toBe(401);
    const ok = await fetch(`${b.url}/metrics`, { headers: { Authorization: 'Bearer metrics-token-0123456789' } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toMatch(/^agent_bridge_sessions\{/m);
  });

  it('without METRICS_TOKEN: loopback callers only; any other address gets 404 not_found', async () => {
    const nonLoopback = Object.values((await import('node:os')).networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
    const b = await broker({ WEBSOCKET_SERVER_ADDR: '0.0.0.0:0' });
    expect((await fetch(`http://127.0.0.1:${b.port}/metrics`)).status).toBe(200);
    if (!nonLoopback) return; // no other interface on this machine: the loopback half still ran
    const res = await fetch(`http://${nonLoopback}:${b.port}/metrics`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: 'not_found' } });
    expect((await fetch(`http://${nonLoopback}:${b.port}/healthz`)).status).toBe(200);
  });
});

describe('agent welcome paging', () => {
  it('no frame exceeds MAX_MESSAGE_BYTES: welcome {more:true}, then clients frames until more:false, listing every session once', async () => {
    const b = await broker({ MAX_MESSAGE_BYTES: '4096' });
    // 120 ids of 60 characters: ~12 KB of list, three or four pages.
    const ids = Array.from({ length: 120 }, (_, i) => `client-${String(i).padStart(4, '0')}-${'k'.repeat(48)}`);
    const peers: Peer[] = [];
    for (const id of ids) peers.push(await client(b, id));
    const a = await open(`${b.wsUrl}/ws/agent`, { headers: { Authorization: 'Bearer test_agent_token' } });
    const welcome = await a.next('welcome');
    expect(welcome.more).toBe(true);
    const listed = [...welcome.clients];
    for (;;) {
      const page = await a.next('clients');
      listed.push(...page.clients);
      if (!page.more) break;
    }
    expect(listed.map((c: { clientId: string }) => c.clientId).sort()).toEqual([...ids].sort());
    expect(listed.every((c: { connected: boolean }) => c.connected)).toBe(true);
    // Re-serialising a parsed frame gives back its exact text (same keys, same order).
    const frames = a.all((f) => f.type === 'welcome' || f.type === 'clients');
    expect(frames.length).toBeGreaterThanOrEqual(3);
    for (const f of frames) expect(Buffer.byteLength(JSON.stringify(f))).toBeLessThanOrEqual(4096);
    // Filled, not one entry per frame: every page but the last is over three quarters full.
    for (const f of frames.slice(0, -1)) expect(Buffer.byteLength(JSON.stringify(f))).toBeGreaterThan(3072);
  });

  it('a list that fits is one welcome without `more` (the v1 frame)', async () => {
    const b = await broker();
    await client(b, 'only');
    const a = await agent(b);
    expect(a.welcome.clients).toEqual([{ clientId: 'only', address: null, connected: true }]);
    expect('more' in a.welcome).toBe(false);
  });
});
