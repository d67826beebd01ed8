import { describe, expect, it } from 'vitest';
import { agent, broker, client, sleep, until } from './helpers.ts';

describe('messages for an absent agent name wait', () => {
  it('are delivered in order when one connects', async () => {
    const b = await broker({ AGENT_QUEUE_LIMIT: '10' });
    const c1 = await client(b, 'c1');
    const c2 = await client(b, 'c2');
    for (let i = 0; i < 4; i++) {
      c1.send({ type: 'message', agent: 'late', id: `a${i}`, data: i });
      c2.send({ type: 'message', agent: 'late', id: `b${i}`, data: i });
    }
    await sleep(100);
    const a = await agent(b, { name: 'late' });
    const refs: string[] = [];
    for (let i = 0; i < 8; i++) refs.push((await a.next('client.message')).ref);
    expect(refs.filter((r) => r.startsWith('a'))).toEqual(['a0', 'a1', 'a2', 'a3']);
    expect(refs.filter((r) => r.startsWith('b'))).toEqual(['b0', 'b1', 'b2', 'b3']);
    // Then new ones go straight through, after the queued ones.
    c1.send({ type: 'message', agent: 'late', id: 'a4', data: 4 });
    expect((await a.next('client.message')).ref).toBe('a4');
    expect(c1.all('error')).toHaveLength(0);
  });

  it('answers agent_unavailable with the ref beyond AGENT_QUEUE_LIMIT', async () => {
    const b = await broker({ AGENT_QUEUE_LIMIT: '2' });
    const c = await client(b, 'c1');
    for (let i = 0; i < 4; i++) c.send({ type: 'message', id: `m${i}`, data: i });
    const errs = [await c.next('error'), await c.next('error')];
    expect(errs).toEqual([
      { type: 'error', code: 'agent_unavailable', message: expect.any(String), ref: 'm2' },
      { type: 'error', code: 'agent_unavailable', message: expect.any(String), ref: 'm3' },
    ]);
    const a = await agent(b);
    expect((await a.next('client.message')).ref).toBe('m0');
    expect((await a.next('client.message')).ref).toBe('m1');
  });

  it('answers agent_unavailable at once with AGENT_QUEUE_LIMIT=0', async () => {
    const b = await broker({ AGENT_QUEUE_LIMIT: '0' });
    const c = await client(b, 'c1');
    c.send({ type: 'message', id: 'now', agent: 'nobody', data: 1 });
    expect(await c.next('error', 500)).toMatchObject({ code: 'agent_unavailable', ref: 'now' });
  });

  it('answers agent_unavailable when the wait ends (SESSION_TTL_MS), and the agent never gets it', async () => {
    const b = await broker({ AGENT_QUEUE_LIMIT: '10', SESSION_TTL_MS: '400' });
    const c = await client(b, 'c1');
    const t0 = Date.now();
    c.send({ type: 'message', id: 'w1', data: 1 });
    expect(await c.next('error', 3000)).toMatchObject({ code: 'agent_unavailable', ref: 'w1' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(380);
    // A fresh one waits its own full time and is delivered.
    c.send({ type: 'message', id: 'w2', data: 2 });
    const a = await agent(b);
    expect((await a.next('client.message')).ref).toBe('w2');
    await sleep(100);
    expect(a.all('client.message')).toHaveLength(1);
  });

  it('keeps waiting per name: another name being connected does not take them', async () => {
    const b = await broker();
    const other = await agent(b, { name: 'other' });
    const c = await client(b, 'c1');
    c.send({ type: 'message', agent: 'wanted', id: 'x', data: 1 });
    await sleep(100);
    expect(other.all('client.message')).toHaveLength(0);
    const wanted = await agent(b, { name: 'wanted' });
    expect((await wanted.next('client.message')).ref).toBe('x');
  });

  it('puts messages back in the wait queue when their agent goes before taking them', async () => {
    // A tiny mailbox and socket buffer: an agent that does not read overflows, is closed 1013,
    // and the client.message frames it never got wait for the next agent of that name.
    // Small rounds and a 1 MiB socket cap: the next agent absorbs what piled up without overflowing.
    const b = await broker({ MAILBOX_LIMIT: '2', SOCKET_BUFFER_BYTES: String(1 << 20), MAX_MESSAGE_BYTES: '65536', CLIENT_RATE_BURST: '5000', AGENT_QUEUE_LIMIT: '5000' });
    const slow = await agent(b, { name: 'w' });
    const c = await client(b, 'c1');
    (slow.ws as any)._socket.pause();
    const big = 'z'.repeat(30_000);
    let sent = 0;
    await agent(b, { name: 'watcher' });
    // Flood until the broker has cut the slow agent (only the watcher is left).
    while (sent < 2000) {
      c.send({ type: 'message', agent: 'w', id: `q${sent}`, data: big });
      sent++;
      if (sent % 10 === 0) {
        await sleep(10);
        const h = (await fetch(`${b.url}/healthz`).then((r) => r.json())) as { agents: number };
        if (h.agents === 1) break;
      }
    }
    expect(sent).toBeLessThan(2000);
    // Whatever the slow agent did not get is delivered, in order, to the next one.
    const fresh = await agent(b, { name: 'w' });
    const got: number[] = [];
    const deadline = Date.now() + 8000;
    while (Date.now() < deadline) {
      const f = await fresh.next('client.message', 3000).catch(() => undefined);
      if (!f) break;
      got.push(Number(f.ref.slice(1)));
      if (got[got.length - 1] === sent - 1) break;
    }
    expect(got.length).toBeGreaterThan(0);
    expect(got[got.length - 1]).toBe(sent - 1);
    for (let i = 1; i < got.length; i++) expect(got[i]).toBe(got[i - 1]! + 1);
    expect(c.all('error')).toHaveLength(0);
  });

  it('re-routes an overflowing pool connection\'s undelivered messages to the rest of the pool', async () => {
    const b = await broker({ MAILBOX_LIMIT: '2', SOCKET_BUFFER_BYTES: String(1 << 20), MAX_MESSAGE_BYTES: '65536', CLIENT_RATE_BURST: '5000' });
    const slow = await agent(b, { name: 'p' });
    const c = await client(b, 'c1');
    // c1 is pinned to `slow` (the only connection); a second one joins later and must not take it.
    c.send({ type: 'message', agent: 'p', id: 'first', data: 0 });
    await slow.next('client.message');
    const other = await agent(b, { name: 'p' });
    (slow.ws as any)._socket.pause();
    const big = 'z'.repeat(30_000);
    let sent = 0;
    while (sent < 2000 && other.all((f) => f.type === 'client.message').length === 0) {
      for (let i = 0; i < 10; i++) c.send({ type: 'message', agent: 'p', id: `q${sent++}`, data: big });
      await sleep(10);
    }
    expect(sent).toBeLessThan(2000);
    await until(() => other.all('client.message').some((f) => f.ref === `q${sent - 1}`), 5000, 'last message at the other connection');
    const refs = other.all('client.message').map((f) => Number(f.ref.slice(1)));
    for (let i = 1; i < refs.length; i++) expect(refs[i]).toBe(refs[i - 1]! + 1);
    expect(c.all('error')).toHaveLength(0);
  });
});
