import { describe, expect, it } from 'vitest';
import { agent, broker, client, sleep, until } from './helpers.ts';

const UUID7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('client → agent', () => {
  it('wraps a client message as client.message with a uuid v7 id, ref, clientId, address, data, ts', async () => {
    const b = await broker();
    const a = await agent(b);
    const c = await client(b, 'c1');
    c.send({ type: 'message', id: 'c-1', data: { text: 'hello' } });
    const m = await a.next('client.message');
    expect(m).toEqual({ type: 'client.message', id: expect.stringMatching(UUID7), ref: 'c-1', clientId: 'c1', address: null, data: { text: 'hello' }, ts: expect.any(String) });
    expect(new Date(m.ts).toISOString()).toBe(m.ts);
    c.send({ type: 'message', data: null });
    const m2 = await a.next('client.message');
    expect(m2.data).toBeNull();
    expect('ref' in m2).toBe(false);
  });

  it('routes by agent name (default "default") and only to that name', async () => {
    const b = await broker();
    const def = await agent(b);
    const trader = await agent(b, { name: 'trader' });
    const c = await client(b, 'c1');
    c.send({ type: 'message', id: 't', agent: 'trader', data: 1 });
    c.send({ type: 'message', id: 'd', data: 2 });
    expect((await trader.next('client.message')).ref).toBe('t');
    expect((await def.next('client.message')).ref).toBe('d');
    await sleep(50);
    expect(trader.all('client.message')).toHaveLength(1);
    expect(def.all('client.message')).toHaveLength(1);
  });

  it('answers payload_too_large when the wrapped message would exceed MAX_MESSAGE_BYTES, and forwards nothing', async () => {
    const b = await broker({ MAX_MESSAGE_BYTES: '1024' });
    const a = await agent(b);
    const c = await client(b, 'c1');
    // Fits in one frame (≤ 1024) but not once wrapped with id, clientId, ts …
    c.send({ type: 'message', id: 'big', data: 'x'.repeat(960) });
    expect(await c.next('error')).toMatchObject({ code: 'payload_too_large', ref: 'big' });
    c.send({ type: 'message', id: 'small', data: 'ok' });
    expect((await a.next('client.message')).ref).toBe('small');
  });
});

describe('agent → clients', () => {
  it('send to one client: a seq\'d message frame with from = agent name', async () => {
    const b = await broker();
    const a = await agent(b, { name: 'helper' });
    const c = await client(b, 'c1');
    a.send({ type: 'send', id: 'a-1', to: 'c1', data: { text: 'hi' } });
    const m = await c.next('message');
    expect(m).toEqual({ type: 'message', seq: expect.any(Number), id: expect.stringMatching(UUID7), from: 'helper', data: { text: 'hi' }, ts: expect.any(String) });
    a.send({ type: 'send', to: 'c1', data: 2 });
    expect((await c.next('message')).seq).toBe(m.seq + 1);
  });

  it('send to a list: known targets get it, unknown ones get ONE unknown_client error with clientIds and ref', async () => {
    const b = await broker();
    const a = await agent(b);
    const c1 = await client(b, 'c1');
    const c2 = await client(b, 'c2');
    a.send({ type: 'send', id: 'a-7', to: ['c1', 'ghost', 'c2', 'phantom'], data: 'x' });
    expect((await c1.next('message')).data).toBe('x');
    expect((await c2.next('message')).data).toBe('x');
    const err = await a.next('error');
    expect(err).toMatchObject({ type: 'error', code: 'unknown_client', ref: 'a-7', clientIds: ['ghost', 'phantom'] });
    await sleep(50);
    expect(a.all('error')).toHaveLength(1);
  });

  it('broadcast reaches every known session except `except`, including an away one (kept for its resume)', async () => {
    const b = await broker();
    const a = await agent(b);
    const c1 = await client(b, 'c1');
    const c2 = await client(b, 'c2');
    const c3 = await client(b, 'c3');
    c3.close(4001);
    await a.event('client.disconnected');
    a.send({ type: 'broadcast', id: 'b1', data: 'all', except: ['c2'] });
    expect((await c1.next('message')).data).toBe('all');
    await sleep(50);
    expect(c2.all('message')).toHaveLength(0);
    const back = await client(b, 'c3', { lastSeq: c3.welcome.lastSeq, epoch: b.epoch });
    expect(back.welcome).toMatchObject({ resumed: true, replayed: 1 });
    expect((await back.next('message')).data).toBe('all');
  });

  it('answers payload_too_large to the agent and delivers nothing when the client frame would be too big', async () => {
    const b = await broker({ MAX_MESSAGE_BYTES: '1024' });
    const a = await agent(b);
    const c = await client(b, 'c1');
    a.send({ type: 'send', id: 's-big', to: 'c1', data: 'y'.repeat(950) });
    expect(await a.next('error')).toMatchObject({ code: 'payload_too_large', ref: 's-big' });
    a.send({ type: 'broadcast', id: 'b-big', data: 'y'.repeat(950) });
    expect(await a.next('error')).toMatchObject({ code: 'payload_too_large', ref: 'b-big' });
    a.send({ type: 'send', to: 'c1', data: 'fits' });
    const m = await c.next('message');
    expect(m.data).toBe('fits');
    expect(c.all('message')).toHaveLength(1);
  });

  it('keeps order: 500 messages each way', async () => {
    const b = await broker({ CLIENT_RATE_BURST: '1000' });
    const a = await agent(b);
    const c = await client(b, 'c1');
    for (let i = 0; i < 500; i++) c.send({ type: 'message', id: `c${i}`, data: i });
    for (let i = 0; i < 500; i++) a.send({ type: 'send', to: 'c1', data: i });
    const toAgent: number[] = [];
    while (toAgent.length < 500) toAgent.push((await a.next('client.message')).data);
    const toClient: { seq: number; data: number }[] = [];
    while (toClient.length < 500) toClient.push((await c.next('message')) as any);
    expect(toAgent).toEqual([...Array(500).keys()]);
    expect(toClient.map((m) => m.data)).toEqual([...Array(500).keys()]);
    expect(toClient.map((m) => m.seq)).toEqual(toClient.map((_, i) => toClient[0]!.seq + i));
  });
});

describe('agent names and pools', () => {
  it('clients get seq\'d agent.connected when a name\'s first connection arrives and agent.disconnected when its last goes', async () => {
    const b = await broker();
    const c = await client(b, 'c1');
    expect(c.welcome.agents).toEqual([]);
    const a1 = await agent(b, { name: 'pool' });
    const up = await c.event('agent.connected');
    expect(up).toMatchObject({ agent: 'pool', seq: expect.any(Number), ts: expect.any(String) });
    const a2 = await agent(b, { name: 'pool' });
    a1.close();
    await sleep(100);
    a2.close();
    const down = await c.event('agent.disconnected');
    expect(down).toMatchObject({ agent: 'pool', seq: up.seq + 1 });
    expect(c.all((f) => f.type === 'system')).toHaveLength(2);
    const c2 = await client(b, 'c2');
    expect(c2.welcome.agents).toEqual([]);
    await agent(b, { name: 'x' });
    expect((await client(b, 'c3')).welcome.agents).toEqual(['x']);
  });

  it('pins each client to one pool connection, stays pinned when others join, re-pins when its connection goes', async () => {
    const b = await broker();
    const pool = [await agent(b, { name: 'p' }), await agent(b, { name: 'p' })];
    const ids = Array.from({ length: 12 }, (_, i) => `client-${i}`);
    const clients = await Promise.all(ids.map((id) => client(b, id)));
    const owner = async (i: number, round: string) => {
      const ref = `${round}-${i}`;
      clients[i]!.send({ type: 'message', agent: 'p', id: ref, data: i });
      const holder = () => pool.findIndex((a) => a.all((f) => f.type === 'client.message' && f.ref === ref).length > 0);
      await until(() => holder() >= 0, 3000, ref);
      return holder();
    };
    const first: number[] = [];
    for (let i = 0; i < ids.length; i++) first.push(await owner(i, 'r1'));
    // Rendezvous hashing over two connections should use both for 12 clients.
    expect(new Set(first).size).toBe(2);
    // Stable: the same client goes to the same connection, even after a third joins.
    pool.push(await agent(b, { name: 'p' }));
    for (let i = 0; i < ids.length; i++) expect(await owner(i, 'r2')).toBe(first[i]);
    // The connection of pool[0] goes: its clients move, the others stay.
    pool[0]!.close();
    await sleep(100);
    for (let i = 0; i < ids.length; i++) {
      const now = await owner(i, 'r3');
      if (first[i] === 0) expect(now).not.toBe(0);
      else expect(now).toBe(first[i]);
    }
  });

  it('welcomes an agent with its id and the known sessions', async () => {
    const b = await broker();
    await client(b, 'c1');
    const gone = await client(b, 'c2');
    gone.close(4000);
    await sleep(100);
    const a = await agent(b, { name: 'n' });
    expect(a.welcome).toEqual({
      type: 'welcome',
      agent: 'n',
      agentId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      heartbeatMs: 1000,
      clients: [
        { clientId: 'c1', address: null, connected: true },
        { clientId: 'c2', address: null, connected: false },
      ],
    });
  });
});
