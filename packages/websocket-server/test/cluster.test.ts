/**
 * Cluster mode (PROTOCOL §10) with two brokers in this process on the real Redis (REDIS_TEST_URL,
 * default redis://127.0.0.1:6379), each test on a prefix of its own: the cluster behaves as one
 * broker. Process deaths (SIGKILL) are in packages/e2e (cluster-*.test.ts).
 */
import { createLogger } from '@agent-bridge/common';
import { RedisLink } from '@agent-bridge/common/redis';
import { describe, expect, it } from 'vitest';
import type { BrokerHandle } from '../src/index.ts';
import { SeqMessageTemplate } from '../src/frames-out.ts';
import { Keys } from '../src/store/redis/keys.ts';
import { RedisSessionLog } from '../src/store/redis/session-log-redis.ts';
import { TcpProxy } from '@agent-bridge/testkit';
import { AGENT_TOKEN, agent, broker, client, type Frame, getJson, open, PROXY_TOKEN, until } from './helpers.ts';
import { REDIS_TEST_URL as url, redisRun, refsHeld } from './redis-run.ts';

const { redis, prefix: newPrefix, deleteKeys } = redisRun('abtest');

/** The ids a §8 reference set holds, both generations (store/redis/lua.ts), sorted, each once. */
async function refs(key: string): Promise<string[]> {
  return [...new Set(await refsHeld(redis, key))];
}

/** Two brokers of one cluster (a prefix of their own). */
async function cluster(env: Record<string, string> = {}): Promise<{ a: BrokerHandle; b: BrokerHandle; prefix: string }> {
  const prefix = newPrefix();
  const common = { REDIS_URL: url, CLUSTER_PREFIX: prefix, ...env };
  const a = await broker({ ...common, NODE_ID: 'broker-a' });
  const b = await broker({ ...common, NODE_ID: 'broker-b' });
  return { a, b, prefix };
}


describe('cluster mode: two brokers on Redis are one broker', () => {
  it('every broker reports the cluster epoch and its own node id', async () => {
    const { a, b } = await cluster();
    expect(a.epoch).toBe(b.epoch);
    const ha = await getJson(`${a.url}/healthz`);
    const hb = await getJson(`${b.url}/healthz`);
    expect(ha.body).toMatchObject({ nodeId: 'broker-a', cluster: true, epoch: a.epoch });
    expect(hb.body).toMatchObject({ nodeId: 'broker-b', cluster: true, epoch: a.epoch });
    expect((await getJson(`${a.url}/readyz`)).status).toBe(200);
  });

  it('an agent on one broker and a client on the other reach each other, in order, each frame once', async () => {
    const { a, b } = await cluster();
    const ag = await agent(a);
    const c = await client(b, 'c1');
    expect((await ag.event('client.connected')).clientId).toBe('c1');
    for (let i = 1; i <= 30; i++) c.send({ type: 'message', data: { n: i }, id: `m${i}` });
    for (let i = 1; i <= 30; i++) expect((await ag.next('client.message')).data).toEqual({ n: i });
    for (let i = 1; i <= 30; i++) ag.send({ type: 'send', to: 'c1', data: { n: i } });
    const got: Frame[] = [];
    for (let i = 1; i <= 30; i++) got.push(await c.next('message'));
    expect(got.map((f) => f.data.n)).toEqual([...Array(30).keys()].map((i) => i + 1));
    expect(got.map((f) => f.seq)).toEqual([...Array(30).keys()].map((i) => i + 1));
  });

  it('a broadcast reaches every session on every broker exactly once; except is honoured', async () => {
    const { a, b } = await cluster();
    const ag = await agent(b);
    const c1 = await client(a, 'c1');
    const c2 = await client(b, 'c2');
    const c3 = await client(a, 'c3');
    for (let i = 0; i < 3; i++) await ag.event('client.connected');
    ag.send({ type: 'broadcast', data: 'hello', except: ['c3'] });
    expect((await c1.next('message')).data).toBe('hello');
    expect((await c2.next('message')).data).toBe('hello');
    ag.send({ type: 'send', to: ['c1', 'c2', 'c3'], data: 'after' });
    expect((await c1.next('message')).data).toBe('after');
    expect((await c2.next('message')).data).toBe('after');
    // c3 never saw the broadcast: its first message is the direct one.
    expect((await c3.next('message')).data).toBe('after');
  });

  it('a broadcast crosses to each other broker once, not once per client', async () => {
    const { a, b, prefix } = await cluster();
    const ag = await agent(a);
    const clients = await Promise.all(Array.from({ length: 20 }, (_, i) => client(b, `b${i}`)));
    for (let i = 0; i < 20; i++) await ag.event('client.connected');
    const sub = new RedisLink({ url, log: createLogger('cluster-test', { level: 'silent' }), name: 'spy' });
    await sub.start();
    const seen: string[] = [];
    await sub.client.pSubscribe(`${prefix}:bus*`, (raw: string) => seen.push(raw));
    ag.send({ type: 'broadcast', data: 'to all' });
    for (const c of clients) expect((await c.next('message')).data).toBe('to all');
    await sub.close();
    const crossings = seen.filter((m) => m.startsWith('D') || m.includes('"deliver'));
    expect(crossings).toHaveLength(1);
    expect(JSON.parse(crossings[0]!.slice(1))).toMatchObject({ kind: 'deliver.batch', node: expect.stringMatching(/^broker-b~/) });
  });

  it('the agent welcome lists every session of the cluster; lifecycle events cross brokers', async () => {
    const { a, b } = await cluster();
    await client(a, 'c1');
    await client(b, 'c2');
    const ag = await agent(a);
    const listed = (ag.welcome.clients as { clientId: string; connected: boolean }[]).map((c) => c.clientId).sort();
    expect(listed).toEqual(['c1', 'c2']);
    const c3 = await client(b, 'c3');
    expect(await ag.event('client.connected')).toMatchObject({ clientId: 'c3', resumed: false });
    c3.ws.terminate();
    expect(await ag.event('client.disconnected')).toMatchObject({ clientId: 'c3', resumable: true });
  });

  it('a newer connection on another broker replaces the older one with 4500', async () => {
    const { a, b } = await cluster();
    const ag = await agent(a);
    const old = await client(a, 'c1');
    const closed = new Promise<number>((r) => old.ws.once('close', (code) => r(code)));
    const fresh = await client(b, 'c1', { lastSeq: 0, epoch: a.epoch });
    expect(await closed).toBe(4500);
    ag.send({ type: 'send', to: 'c1', data: 'to the new one' });
    expect((await fresh.next('message')).data).toBe('to the new one');
  });

  it('the token bucket follows the session: spent on one broker (answered from its memory), still spent at the other after a reconnect', async () => {
    const { a, b } = await cluster({ CLIENT_RATE_BURST: '4', CLIENT_RATE_PER_SEC: '1' });
    const ag = await agent(a);
    const c = await client(a, 'c1');
    await ag.event('client.connected');
    // One at a time: the first batch is the Redis round trip, the rest answered by broker a itself.
    for (let i = 1; i <= 4; i++) {
      c.send({ type: 'message', id: `m${i}`, data: i });
      expect(await c.next('accepted')).toMatchObject({ ref: `m${i}` });
    }
    c.send({ type: 'message', id: 'm5', data: 5 });
    expect(await c.next('error')).toMatchObject({ code: 'rate_limited', ref: 'm5' });
    const closed = new Promise((r) => c.ws.once('close', r));
    c.ws.close();
    await closed;
    // At broker b, within the second that refills a token at most: nothing for the first frames.
    const again = await client(b, 'c1', { lastSeq: c.welcome.seq ?? 0, epoch: a.epoch });
    again.send({ type: 'message', id: 'n1', data: 'x' });
    again.send({ type: 'message', id: 'n2', data: 'y' });
    const answers = [await again.next((f) => f.type === 'accepted' || f.type === 'error'), await again.next((f) => f.type === 'accepted' || f.type === 'error')];
    // A full bucket would have taken both; a spent one takes at most the token refilled meanwhile.
    expect(answers.filter((f) => f.type === 'error' && f.code === 'rate_limited').length).toBeGreaterThanOrEqual(1);
  });

  it('an identity change reaches the client.messages of the broker holding the socket: at once when made there, by the bus (or its 1-s refresh) when made at another', async () => {
    const { a, b } = await cluster({ CLIENT_RATE_BURST: '100' });
    const ag = await agent(b);
    const c = await client(a, 'c1');
    await ag.event('client.connected');
    const ADDR = `0x${'ab'.repeat(20)}`;
    const identity = (at: BrokerHandle, address: string | null) =>
      getJson(`${at.url}/internal/clients/c1/identity`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${PROXY_TOKEN}` },
        body: JSON.stringify({ address }),
      });
    c.send({ type: 'message', id: 'm1', data: 1 });
    expect((await ag.next('client.message')).address).toBeNull();
    // Made at broker a, which holds the socket (the web server asks that one first).
    expect((await identity(a, ADDR)).status).toBe(204);
    c.send({ type: 'message', id: 'm2', data: 2 });
    expect(await ag.next('client.message')).toMatchObject({ ref: 'm2', address: ADDR });
    // Made at broker b: a hears it on the bus; at worst its intake reads the record again within 1 s.
    expect((await identity(b, null)).status).toBe(204);
    await ag.event('client.signed_out');
    const started = Date.now();
    let address: unknown = ADDR;
    for (let i = 3; address !== null && Date.now() - started < 3000; i++) {
      c.send({ type: 'message', id: `m${i}`, data: i });
      address = (await ag.next('client.message')).address;
      if (address !== null) await new Promise((r) => setTimeout(r, 50));
    }
    expect(address).toBeNull();
  });

  it('a client of a broker that shuts down resumes on the other with resumed:true and every frame', async () => {
    const { a, b } = await cluster();
    const ag = await agent(b);
    const c = await client(a, 'c1');
    for (let i = 1; i <= 3; i++) ag.send({ type: 'send', to: 'c1', data: i });
    for (let i = 1; i <= 3; i++) await c.next('message');
    await a.close();
    // Frames sent while the client is between brokers wait in the shared log.
    for (let i = 4; i <= 6; i++) ag.send({ type: 'send', to: 'c1', data: i });
    const again = await client(b, 'c1', { lastSeq: 3, epoch: b.epoch });
    expect(again.welcome).toMatchObject({ resumed: true, epoch: a.epoch });
    const got: Frame[] = [];
    for (let i = 4; i <= 6; i++) got.push(await again.next('message'));
    expect(got.map((f) => [f.seq, f.data])).toEqual([
      [4, 4],
      [5, 5],
      [6, 6],
    ]);
  });

  it('pools span brokers: one pin per client across the connections of a name', async () => {
    const { a, b } = await cluster();
    const p1 = await agent(a, { name: 'pool' });
    const p2 = await agent(b, { name: 'pool' });
    const got = new Map<string, string>();
    const clients = await Promise.all(Array.from({ length: 8 }, (_, i) => client(i % 2 ? a : b, `pc${i}`)));
    for (const [i, c] of clients.entries()) for (let k = 0; k < 3; k++) c.send({ type: 'message', agent: 'pool', data: { i, k } });
    const seen: Frame[] = [];
    const drain = async (p: typeof p1, name: string) => {
      for (;;) {
        const f = await p.next('client.message', 1500).catch(() => undefined);
        if (!f) return;
        seen.push(f);
        const prev = got.get(f.clientId);
        expect(prev === undefined || prev === name, `client ${f.clientId} hopped between connections`).toBe(true);
        got.set(f.clientId, name);
      }
    };
    await Promise.all([drain(p1, 'p1'), drain(p2, 'p2')]);
    expect(seen).toHaveLength(24);
    expect(new Set(got.values()).size).toBe(2);
  });

  it('a message for a name with no connection waits in the shared queue and reaches it on any broker', async () => {
    const { a, b } = await cluster();
    const c = await client(a, 'c1');
    c.send({ type: 'message', agent: 'later', data: 'early', id: 'w1' });
    expect(await c.next('accepted')).toMatchObject({ ref: 'w1' });
    const ag = await agent(b, { name: 'later' });
    expect(await ag.next('client.message')).toMatchObject({ clientId: 'c1', data: 'early' });
  });

  it('Redis emptied: a new cluster epoch, every socket closed 1012, the resume is resumed:false', async () => {
    const { a, b, prefix } = await cluster();
    const c = await client(a, 'c1');
    const closed = new Promise<number>((r) => c.ws.once('close', (code) => r(code)));
    await deleteKeys(`${prefix}:*`);
    expect(await closed).toBe(1012);
    let epoch = '';
    await until(async () => {
      epoch = (await getJson(`${b.url}/healthz`)).body.epoch;
      return epoch !== a.epoch;
    });
    const again = await client(b, 'c1', { lastSeq: 0, epoch: a.epoch });
    expect(again.welcome).toMatchObject({ resumed: false, epoch });
  });

  it('§8 across brokers: a client resend to the other broker is accepted again and reaches the agent once', async () => {
    const { a, b } = await cluster();
    const ag = await agent(a);
    const c = await client(a, 'c1');
    c.send({ type: 'message', id: 'm1', data: 'once' });
    expect(await c.next('accepted')).toMatchObject({ ref: 'm1' });
    c.ws.terminate();
    const again = await client(b, 'c1', { lastSeq: 0, epoch: a.epoch });
    again.send({ type: 'message', id: 'm1', data: 'once' });
    expect(await again.next('accepted')).toMatchObject({ ref: 'm1' });
    again.send({ type: 'message', id: 'm2', data: 'next' });
    expect(await ag.next('client.message')).toMatchObject({ data: 'once' });
    expect(await ag.next('client.message')).toMatchObject({ data: 'next' });
    expect(ag.all('client.message').filter((f) => f.data === 'once')).toHaveLength(1);
  });

  it('§8 across brokers: an agent resend from a connection of the same name on another broker is delivered once', async () => {
    const { a, b } = await cluster();
    const c = await client(b, 'c1');
    const first = await agent(a, { name: 'x' });
    first.send({ type: 'send', to: 'c1', id: 's1', data: 'hello' });
    expect(await first.next('accepted')).toMatchObject({ ref: 's1' });
    first.ws.terminate();
    const second = await agent(b, { name: 'x' });
    second.send({ type: 'send', to: 'c1', id: 's1', data: 'hello' });
    expect(await second.next('accepted')).toMatchObject({ ref: 's1' });
    second.send({ type: 'send', to: 'c1', id: 's2', data: 'world' });
    expect((await c.next('message')).data).toBe('hello');
    expect((await c.next('message')).data).toBe('world');
  });

  it('§8 across brokers: unacknowledged client messages go again, redelivered, to the name’s next connection on another broker', async () => {
    const { a, b } = await cluster();
    const c = await client(a, 'c1');
    const first = await open(`${b.wsUrl}/ws/agent?acks=1`, { headers: { Authorization: `Bearer ${AGENT_TOKEN}`, 'X-Agent-Name': 'y' } });
    await first.next('welcome');
    for (let i = 1; i <= 3; i++) c.send({ type: 'message', agent: 'y', id: `u${i}`, data: i });
    const got = [await first.next('client.message'), await first.next('client.message'), await first.next('client.message')];
    first.send({ type: 'ack', id: got[0]!.id });
    // The ack is read before the close (one TCP stream); the next two were not acknowledged.
    first.ws.terminate();
    const second = await open(`${a.wsUrl}/ws/agent?acks=1`, { headers: { Authorization: `Bearer ${AGENT_TOKEN}`, 'X-Agent-Name': 'y' } });
    await second.next('welcome');
    const again = [await second.next('client.message'), await second.next('client.message')];
    expect(again.map((f) => [f.id, f.data, f.redelivered])).toEqual([
      [got[1]!.id, 2, true],
      [got[2]!.id, 3, true],
    ]);
    expect(await second.next('client.message', 500).catch(() => undefined)).toBeUndefined();
  });

  it('§9 across brokers: a client’s cancel reaches the agent name that streams the run from another broker', async () => {
    const { a, b } = await cluster();
    const runner = await agent(a, { name: 'runner' });
    const fallback = await agent(b);
    const c = await client(b, 'c1');
    runner.send({ type: 'send', to: 'c1', data: { type: 'RUN_STARTED', threadId: 't1', runId: 'r1' } });
    await c.next('message');
    c.send({ type: 'cancel', runId: 'r1', id: 'x1' });
    expect(await runner.next('client.cancel')).toMatchObject({ clientId: 'c1', runId: 'r1' });
    expect(await c.next('accepted')).toMatchObject({ ref: 'x1' });
    expect(fallback.all('client.cancel')).toHaveLength(0);
  });

  it('a frame stored without its notification (its publisher died) still reaches the socket: the log is the truth', async () => {
    const { a, prefix } = await cluster();
    const c = await client(a, 'c1');
    // What a broadcasting broker does before it tells anyone, and then it "dies": nothing is published.
    const log = new RedisSessionLog(redis, new Keys(prefix), 'broker-gone.1', { frames: 100, bytes: 1 << 20, sessionTtlMs: 5000, agentIdsKept: 1000 });
    const body = new SeqMessageTemplate({ id: 'm-lost', from: 'default', data: 'stored, never announced', ts: new Date().toISOString() });
    const f = await log.appendSilently('c1', { type: 'message', body }, 'broadcast');
    expect(f.seq).toBe(1);
    expect(await c.next('message', 10_000)).toMatchObject({ seq: 1, data: 'stored, never announced' });
  });

  it('after a connection of a name goes, its fence is lifted at once: fresh messages are not held up', async () => {
    const { a, b } = await cluster();
    const c = await client(a, 'c1');
    const one = await agent(a, { name: 'z' });
    const two = await agent(b, { name: 'z' });
    c.send({ type: 'message', agent: 'z', id: 'f1', data: 1 });
    // (Not a race of two next(): the loser's would take the next message meant for the test.)
    await until(() => one.all('client.message').length + two.all('client.message').length > 0, 4000, 'f1 delivered');
    const [gone, left] = one.all('client.message').length > 0 ? [one, two] : [two, one];
    gone.ws.terminate();
    const sent = Date.now();
    c.send({ type: 'message', agent: 'z', id: 'f2', data: 2 });
    expect(await left.next('client.message', 4000)).toMatchObject({ data: 2 });
    // Well under the fence's own expiry (5 s): the putBack lifted it.
    expect(Date.now() - sent).toBeLessThan(3000);
  });

  it('frames that arrive together are routed as one batch: one intake for all, each frame its token and its answer, in order', async () => {
    const { a, b, prefix } = await cluster({ CLIENT_RATE_BURST: '6', CLIENT_RATE_PER_SEC: '1' });
    const ag = await agent(b);
    const c = await client(a, 'c1');
    await ag.event('client.connected');
    const spy = new RedisLink({ url, log: createLogger('cluster-test', { level: 'silent' }), name: 'spy' });
    await spy.start();
    const bucket = `${prefix}:{c1}:r`;
    const intakes: string[] = [];
    await spy.client.monitor((line: string) => {
      if (line.includes('"EVALSHA"') && line.includes(`"${bucket}"`)) intakes.push(line);
    });
    // One write: the broker reads the eight frames at once.
    const socket = (c.ws as unknown as { _socket: { cork(): void; uncork(): void } })._socket;
    socket.cork();
    c.send({ type: 'message', id: 'm1', data: 1 });
    c.send({ type: 'message', id: 'm2', data: 2 });
    c.send('not json');
    c.send({ type: 'message', id: 'm1', data: 'again' });
    c.send({ type: 'ack', seq: 0 });
    c.send({ type: 'message', id: 'm3', data: 3 });
    c.send({ type: 'message', id: 'm4', data: 4 });
    c.send({ type: 'message', id: 'm5', data: 5 });
    socket.uncork();
    const answers: Frame[] = [];
    for (let i = 0; i < 7; i++) answers.push(await c.next((f) => f.type === 'accepted' || f.type === 'error'));
    expect(answers.map((f) => (f.type === 'accepted' ? `accepted ${f.ref}` : `${f.code}${f.ref ? ` ${f.ref}` : ''}`))).toEqual([
      'accepted m1',
      'accepted m2',
      'invalid_json',
      'accepted m1',
      'accepted m3',
      'rate_limited m4',
      'rate_limited m5',
    ]);
    // Six tokens (the ack and the bad frame took theirs); the resent m1 reached the agent once.
    const got = [await ag.next('client.message'), await ag.next('client.message'), await ag.next('client.message')];
    expect(got.map((f) => f.data)).toEqual([1, 2, 3]);
    expect(await ag.collectFor(200, 'client.message')).toHaveLength(0);
    await spy.close();
    expect(intakes.length).toBe(1);
  });

  it('resend references are kept to CLUSTER_REFS_LIMIT per name, for the wait queues and per session for agent frames, the newest kept', async () => {
    const { a, b, prefix } = await cluster({ CLUSTER_REFS_LIMIT: '3' });
    const c = await client(a, 'c1');
    // No agent of "q" anywhere: the messages wait in its queue.
    for (let i = 1; i <= 5; i++) c.send({ type: 'message', agent: 'q', id: `w${i}`, data: i });
    for (let i = 1; i <= 5; i++) expect(await c.next('accepted')).toMatchObject({ ref: `w${i}` });
    // Two generations of at most ceil(3 / 2) = 2: the newest 3 kept, never more than 3 (lua.ts).
    expect(await refs(`${prefix}:{q}:refs`)).toEqual(['c1\nw3', 'c1\nw4', 'c1\nw5']);
    const ag = await agent(b);
    for (let i = 1; i <= 5; i++) c.send({ type: 'message', id: `h${i}`, data: i });
    for (let i = 1; i <= 5; i++) expect(await c.next('accepted')).toMatchObject({ ref: `h${i}` });
    for (let i = 1; i <= 5; i++) expect((await ag.next('client.message')).data).toBe(i);
    expect(await refs(`${prefix}:{a:default}:refs`)).toEqual(['c1\nh3', 'c1\nh4', 'c1\nh5']);
    // And the agent frames' ids kept per session.
    for (let i = 1; i <= 5; i++) ag.send({ type: 'send', id: `a${i}`, to: 'c1', data: i });
    for (let i = 1; i <= 5; i++) expect(await ag.next('accepted')).toMatchObject({ ref: `a${i}` });
    expect(await refs(`${prefix}:{c1}:aids`)).toEqual(['default\na3', 'default\na4', 'default\na5']);
  });

  it('an accepted id is recorded for the session (by its next intake, or shortly on its own): a resend is recognised after its resend reference is gone', async () => {
    const { a, b, prefix } = await cluster({ CLUSTER_REFS_LIMIT: '1' });
    const ag = await agent(b);
    const c = await client(a, 'c1');
    await ag.event('client.connected');
    c.send({ type: 'message', id: 'm1', data: 1 });
    expect(await c.next('accepted')).toMatchObject({ ref: 'm1' });
    // Nothing else from this client: the record is written on its own.
    await until(async () => (await redis.cmd(['HEXISTS', `${prefix}:{c1}:ids`, 'm1'])) === 1, 2000, 'm1 recorded');
    c.send({ type: 'message', id: 'm2', data: 2 });
    c.send({ type: 'message', id: 'm3', data: 3 });
    expect(await c.next('accepted')).toMatchObject({ ref: 'm2' });
    expect(await c.next('accepted')).toMatchObject({ ref: 'm3' });
    // Generations of one: m1's reference is gone, m2's and m3's are kept.
    expect(await refs(`${prefix}:{a:default}:refs`)).toEqual(['c1\nm2', 'c1\nm3']);
    c.send({ type: 'message', id: 'm1', data: 'resent' });
    expect(await c.next('accepted')).toMatchObject({ ref: 'm1' });
    expect((await ag.next('client.message')).data).toBe(1);
    expect((await ag.next('client.message')).data).toBe(2);
    expect((await ag.next('client.message')).data).toBe(3);
    expect(await ag.collectFor(300, 'client.message')).toHaveLength(0);
    // m2 and m3 are recorded too (by the resend's intake or on their own).
    expect(await refs(`${prefix}:{c1}:ids`)).toEqual(['m1', 'm2', 'm3']);
  });

  it('a v1 agent connection (no opt-in) that goes gets nothing redelivered: what reached its socket was delivered', async () => {
    const { a, b, prefix } = await cluster();
    const first = await agent(b);
    const c = await client(a, 'c1');
    await first.event('client.connected');
    for (let i = 1; i <= 3; i++) c.send({ type: 'message', id: `v${i}`, data: i });
    for (let i = 1; i <= 3; i++) expect((await first.next('client.message')).data).toBe(i);
    // Written to the socket: nothing is held for it in Redis any more.
    const held = `${prefix}:{a:default}:inflight:${first.welcome.agentId}`;
    await until(async () => (await redis.cmd<number>(['HLEN', held])) === 0, 2000, 'v1 messages forgotten');
    first.ws.terminate();
    const next = await agent(a);
    c.send({ type: 'message', id: 'v4', data: 4 });
    expect(await next.next('client.message')).toMatchObject({ data: 4 });
    expect(next.all('client.message')).toHaveLength(1);
  });

  it('a broker taken over while cut off from Redis closes its sockets (1001) when Redis returns; its clients resume elsewhere, announced once', async () => {
    const prefix = newPrefix();
    const proxy = new TcpProxy(Number(new URL(url).port || 6379), new URL(url).hostname);
    await proxy.listen();
    try {
      const common = { CLUSTER_PREFIX: prefix, HEARTBEAT_TIMEOUT_MS: '3000' };
      const a = await broker({ ...common, REDIS_URL: `redis://127.0.0.1:${proxy.port}`, NODE_ID: 'broker-a' });
      const b = await broker({ ...common, REDIS_URL: url, NODE_ID: 'broker-b' });
      const ag = await agent(b);
      const c = await client(a, 'c1');
      await ag.event('client.connected');
      c.send({ type: 'message', id: 'before', data: 1 });
      expect((await ag.next('client.message')).data).toBe(1);
      // broker-a loses Redis (its sockets stay open); broker-b takes it over after the dead-after bound.
      proxy.block();
      proxy.cut();
      expect(await ag.event('client.disconnected', 10_000)).toMatchObject({ clientId: 'c1', resumable: true });
      proxy.unblock();
      expect((await c.waitClose(10_000)).code).toBe(1001);
      const again = await client(b, 'c1', { lastSeq: 0, epoch: c.welcome.epoch as string });
      expect(again.welcome).toMatchObject({ resumed: true });
      expect(await ag.event('client.connected')).toMatchObject({ clientId: 'c1', resumed: true });
      again.send({ type: 'message', id: 'after', data: 2 });
      expect((await ag.next('client.message')).data).toBe(2);
      // broker-a beats again as a live broker; the session was announced gone once.
      await until(async () => (await getJson(`${a.url}/readyz`)).status === 200, 5000, 'broker-a ready again');
      expect(ag.all((f) => f.type === 'system' && f.event === 'client.disconnected')).toHaveLength(1);
    } finally {
      await proxy.close();
    }
  });

  it('back from a Redis outage, no socket is welcomed before the epoch was read again: Redis came back empty, the first one accepted gets the new epoch', async () => {
    const prefix = newPrefix();
    const proxy = new TcpProxy(Number(new URL(url).port || 6379), new URL(url).hostname);
    await proxy.listen();
    try {
      const a = await broker({ CLUSTER_PREFIX: prefix, REDIS_URL: `redis://127.0.0.1:${proxy.port}`, NODE_ID: 'broker-a' });
      const c = await client(a, 'c1');
      const old = c.welcome.epoch as string;
      proxy.block();
      proxy.cut();
      await until(async () => (await getJson(`${a.url}/readyz`)).status === 503, 5000, 'broker-a unready');
      // Redis "restarted empty" for this bridge: every key of its prefix gone.
      await deleteKeys(`${prefix}:*`);
      proxy.unblock();
      let welcomed: Frame | undefined;
      const deadline = Date.now() + 10_000;
      while (!welcomed && Date.now() < deadline) {
        try {
          welcomed = (await client(a, 'c2')).welcome;
        } catch {
          // 503 unavailable until the broker is back and has read the epoch again
        }
      }
      expect(welcomed).toBeDefined();
      expect(welcomed!.epoch).not.toBe(old);
      expect((await c.waitClose(5000)).code).toBe(1012);
    } finally {
      await proxy.close();
    }
  });
});
