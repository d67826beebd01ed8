// PROTOCOL §8 at the broker (single process): accepted, de-duplication by id, opt-in agent acks
// and redelivery. Real sockets on 127.0.0.1; every frame is also checked against common's schemas.
import { describe, expect, it } from 'vitest';
import type { BrokerHandle } from '../src/server.ts';
import { AGENT_TOKEN, PROXY_TOKEN, agent, broker, client, open, type Frame } from './helpers.ts';

/** An agent connection that opted in to acks (header, or ?acks=1). */
async function ackingAgent(b: BrokerHandle, name = 'default', viaQuery = false) {
  const headers: Record<string, string> = { Authorization: `Bearer ${AGENT_TOKEN}`, 'X-Agent-Name': name };
  if (!viaQuery) headers['X-Agent-Acks'] = '1';
  const p = await open(`${b.wsUrl}/ws/agent${viaQuery ? '?acks=1' : ''}`, { headers });
  const welcome = await p.next('welcome');
  return Object.assign(p, { welcome });
}

const texts = (frames: Frame[]) => frames.map((f) => f.data);

describe('client frames with an id', () => {
  it('accepted once handed to the agent, or queued for an absent name; the client welcome says acks', async () => {
    const b = await broker();
    const c = await client(b, 'c1');
    expect(c.welcome.acks).toBe(true);
    c.send({ type: 'message', id: 'q-1', agent: 'absent', data: 'waits' });
    expect(await c.next('accepted')).toEqual({ type: 'accepted', ref: 'q-1' });
    const a = await agent(b);
    c.send({ type: 'message', id: 'c-1', data: 'now' });
    expect(await c.next('accepted')).toEqual({ type: 'accepted', ref: 'c-1' });
    expect((await a.next('client.message')).ref).toBe('c-1');
    // No id, no accepted (v1): a marker with an id shows nothing came for the first.
    c.send({ type: 'message', data: 'v1' });
    c.send({ type: 'message', id: 'mark', data: 'm' });
    await c.next((f) => f.type === 'accepted' && f.ref === 'mark');
    expect(c.all('accepted').map((f) => f.ref)).toEqual(['q-1', 'c-1', 'mark']);
  });

  it('accepted=inline (our extension): the accepted rides on the next frame as its last member; alone, it is its own frame', async () => {
    const b = await broker();
    const a = await agent(b);
    const c = await client(b, 'c-inline', { acceptedInline: true });
    const raw: string[] = [];
    c.ws.on('message', (d) => raw.push(d.toString()));
    // An answer within the hold (25–50 ms) carries it; on a loaded machine one may come later, so
    // a few exchanges: every id is accepted exactly once, riding or alone, and most of them ride.
    const ids = Array.from({ length: 8 }, (_, i) => `c-${i + 1}`);
    for (const id of ids) {
      c.send({ type: 'message', id, data: id });
      const m = await a.next((f) => f.type === 'client.message' && f.ref === id);
      a.send({ type: 'send', to: 'c-inline', data: { echo: m.data } });
      expect((await c.next((f) => f.type === 'message' && (f.data as { echo: string }).echo === id)).data).toEqual({ echo: id });
    }
    const carried = c.all('message').flatMap((f) => (f.accepted as string[] | undefined) ?? []);
    const alone = c.all('accepted').map((f) => f.ref);
    expect([...carried, ...alone].sort()).toEqual([...ids].sort());
    expect(carried.length).toBeGreaterThan(0);
    const rider = raw.find((t) => t.includes('"accepted":["'))!;
    expect(rider.endsWith('"]}')).toBe(true);
    expect(Object.keys(JSON.parse(rider)).at(-1)).toBe('accepted');
    // Nothing follows this one: a plain accepted frame, after the hold.
    c.send({ type: 'message', id: 'quiet', data: 'quiet' });
    expect(await c.next((f) => f.type === 'accepted' && f.ref === 'quiet')).toEqual({ type: 'accepted', ref: 'quiet' });
    // A socket without the opt-in, or with another value, gets plain frames only.
    const odd = await open(`${b.wsUrl}/ws/client/c-odd?accepted=INLINE`, { headers: { Authorization: `Bearer ${PROXY_TOKEN}` } });
    await odd.next('welcome');
    odd.send({ type: 'message', id: 'o-1', data: 'x' });
    await a.next((f) => f.type === 'client.message' && f.ref === 'o-1');
    a.send({ type: 'send', to: 'c-odd', data: 'y' });
    expect(await odd.next('accepted')).toEqual({ type: 'accepted', ref: 'o-1' });
    expect((await odd.next('message')).accepted).toBeUndefined();
    const d = await client(b, 'c-plain');
    d.send({ type: 'message', id: 'd-1', data: 'x' });
    await a.next((f) => f.type === 'client.message' && f.ref === 'd-1');
    a.send({ type: 'send', to: 'c-plain', data: 'y' });
    expect(await d.next('accepted')).toEqual({ type: 'accepted', ref: 'd-1' });
    expect((await d.next('message')).accepted).toBeUndefined();
  });

  it('accepted=inline on an agent socket (X-Agent-Accepted: inline or ?accepted=inline): the accepted of a send rides on the next frame to it', async () => {
    // SOCKET_BUFFER_BYTES bounds the answers waiting for an agent: riders must leave that count
    // when they go, or riding would stop after that many bytes of accepteds (the last check).
    const b = await broker({ SOCKET_BUFFER_BYTES: '1024' });
    for (const how of ['header', 'query'] as const) {
      const headers: Record<string, string> = { Authorization: `Bearer ${AGENT_TOKEN}`, 'X-Agent-Name': how };
      if (how === 'header') headers['X-Agent-Accepted'] = 'inline';
      const a = await open(`${b.wsUrl}/ws/agent${how === 'query' ? '?accepted=inline' : ''}`, { headers });
      await a.next('welcome');
      const raw: string[] = [];
      a.ws.on('message', (d) => raw.push(d.toString()));
      const c = await client(b, `c-${how}`);
      const ids = Array.from({ length: 60 }, (_, i) => `a-${how}-${i}`);
      c.send({ type: 'message', id: 'm-0', agent: how, data: 0 });
      await a.next((f) => f.type === 'client.message' && f.ref === 'm-0');
      for (const [i, id] of ids.entries()) {
        a.send({ type: 'send', id, to: `c-${how}`, data: i });
        await c.next((f) => f.type === 'message' && f.data === i);
        c.send({ type: 'message', id: `m-${i + 1}`, agent: how, data: i + 1 });
        await a.next((f) => f.type === 'client.message' && f.ref === `m-${i + 1}`);
      }
      // Within the hold (25–50 ms) the accepted rides; a slow moment sends it alone: each id once.
      await expect.poll(() => [...a.all('client.message').flatMap((f) => (f.accepted as string[] | undefined) ?? []), ...a.all('accepted').map((f) => f.ref)].length).toBe(ids.length);
      const carried = a.all('client.message').flatMap((f) => (f.accepted as string[] | undefined) ?? []);
      expect([...carried, ...a.all('accepted').map((f) => f.ref)].sort()).toEqual([...ids].sort());
      const rider = raw.find((t) => t.startsWith('{"type":"client.message"') && t.includes('"accepted":["'))!;
      expect(Object.keys(JSON.parse(rider)).at(-1)).toBe('accepted');
      // 60 accepteds are ~2 KB, twice SOCKET_BUFFER_BYTES: they still ride at the end.
      expect(carried.filter((id) => Number(id.split('-').at(-1)) >= 30).length).toBeGreaterThan(0);
      a.ws.close();
    }
    // Without the opt-in (or with another value): plain accepted frames.
    const plain = await open(`${b.wsUrl}/ws/agent?accepted=yes`, { headers: { Authorization: `Bearer ${AGENT_TOKEN}`, 'X-Agent-Name': 'plain' } });
    await plain.next('welcome');
    const c = await client(b, 'c-plain');
    c.send({ type: 'message', id: 'p-0', agent: 'plain', data: 0 });
    await plain.next('client.message');
    plain.send({ type: 'send', id: 'p-send', to: 'c-plain', data: 1 });
    c.send({ type: 'message', id: 'p-1', agent: 'plain', data: 1 });
    expect(await plain.next('accepted')).toEqual({ type: 'accepted', ref: 'p-send' });
    expect((await plain.next('client.message')).accepted).toBeUndefined();
  });

  it('a resend with an id already accepted in this session (say from a new socket) is accepted again and reaches the agent once', async () => {
    const b = await broker();
    const a = await agent(b);
    const c = await client(b, 'c1');
    c.send({ type: 'message', id: 'c-1', data: 'one' });
    await c.next('accepted');
    c.ws.terminate();
    const c2 = await client(b, 'c1', { lastSeq: 0, epoch: c.welcome.epoch });
    c2.send({ type: 'message', id: 'c-1', data: 'one' });
    c2.send({ type: 'cancel', id: 'c-1', runId: 'r' }); // same id, any frame: already accepted
    c2.send({ type: 'message', id: 'c-2', data: 'two' });
    expect((await c2.next('accepted')).ref).toBe('c-1');
    expect((await c2.next('accepted')).ref).toBe('c-1');
    expect((await c2.next('accepted')).ref).toBe('c-2');
    await a.next((f) => f.type === 'client.message' && f.ref === 'c-2');
    expect(texts(a.all('client.message'))).toEqual(['one', 'two']);
    expect(a.all('client.cancel')).toEqual([]);
    const metrics = await (await fetch(`${b.url}/metrics`)).text();
    expect(metrics).toMatch(/agent_bridge_frames_deduplicated_total\{from="client"\} 2/);
    expect(metrics).toMatch(/agent_bridge_frames_accepted_total\{from="client"\} 2/);
  });

  it('refusals are the v1 error with ref instead of accepted; a resend of a refused id is handled as new', async () => {
    const b = await broker({ MAX_MESSAGE_BYTES: '1024', AGENT_QUEUE_LIMIT: '1' });
    const c = await client(b, 'c1');
    c.send({ type: 'message', id: 'big', data: 'x'.repeat(960) });
    expect(await c.next((f) => f.ref === 'big')).toMatchObject({ type: 'error', code: 'payload_too_large' });
    c.send({ type: 'message', id: 'w1', agent: 'gone', data: 1 });
    expect(await c.next((f) => f.ref === 'w1')).toMatchObject({ type: 'accepted' });
    c.send({ type: 'message', id: 'w2', agent: 'gone', data: 2 });
    expect(await c.next((f) => f.ref === 'w2')).toMatchObject({ type: 'error', code: 'agent_unavailable' });
    const a = await agent(b, { name: 'gone' });
    expect((await a.next('client.message')).ref).toBe('w1');
    c.send({ type: 'message', id: 'w2', agent: 'gone', data: 2 });
    expect(await c.next((f) => f.ref === 'w2' && f.type === 'accepted')).toBeTruthy();
    expect((await a.next('client.message')).ref).toBe('w2');
    expect(c.all((f) => f.ref === 'big' || f.ref === 'w1' || f.ref === 'w2').map((f) => f.type)).toEqual(['error', 'accepted', 'error', 'accepted']);
  });

  it('after accepted, the one later refusal is agent_unavailable when the wait ends', async () => {
    const b = await broker({ SESSION_TTL_MS: '300' });
    const c = await client(b, 'c1');
    c.send({ type: 'message', id: 'x', agent: 'never', data: 1 });
    expect((await c.next((f) => f.ref === 'x')).type).toBe('accepted');
    expect(await c.next((f) => f.ref === 'x')).toMatchObject({ type: 'error', code: 'agent_unavailable' });
  });
});

describe('agent frames with an id', () => {
  it('send: accepted once stored; a resend by another connection of the name is accepted again and delivered to nobody', async () => {
    const b = await broker();
    const c = await client(b, 'c1');
    const a = await agent(b, { name: 'helper' });
    a.send({ type: 'send', id: 'a-1', to: 'c1', data: 'hi' });
    expect(await a.next('accepted')).toEqual({ type: 'accepted', ref: 'a-1' });
    a.ws.terminate();
    const a2 = await agent(b, { name: 'helper' });
    a2.send({ type: 'send', id: 'a-1', to: 'c1', data: 'hi' });
    a2.send({ type: 'broadcast', id: 'a-1', data: 'hi' });
    a2.send({ type: 'send', id: 'a-2', to: 'c1', data: 'next' });
    expect((await a2.next('accepted')).ref).toBe('a-1');
    expect((await a2.next('accepted')).ref).toBe('a-1');
    expect((await a2.next('accepted')).ref).toBe('a-2');
    await c.next((f) => f.data === 'next');
    expect(texts(c.all('message'))).toEqual(['hi', 'next']);
    // Another name's id space is its own.
    const other = await agent(b, { name: 'other' });
    other.send({ type: 'send', id: 'a-1', to: 'c1', data: 'other' });
    await other.next('accepted');
    expect((await c.next((f) => f.type === 'message' && f.data === 'other')).from).toBe('other');
  });

  it('some unknown clients: accepted for the known ones and unknown_client; none known: only unknown_client', async () => {
    const b = await broker();
    const c = await client(b, 'c1');
    const a = await agent(b);
    a.send({ type: 'send', id: 's-1', to: ['c1', 'nobody'], data: 1 });
    const two = [await a.next((f) => f.ref === 's-1'), await a.next((f) => f.ref === 's-1')];
    expect(two.map((f) => f.type).sort()).toEqual(['accepted', 'error']);
    expect(two.find((f) => f.type === 'error')).toMatchObject({ code: 'unknown_client', clientIds: ['nobody'] });
    expect((await c.next('message')).data).toBe(1);
    a.send({ type: 'send', id: 's-2', to: 'nobody', data: 2 });
    a.send({ type: 'send', id: 'mark', to: 'c1', data: 3 });
    await a.next((f) => f.ref === 'mark');
    expect(a.all((f) => f.ref === 's-2').map((f) => f.type)).toEqual(['error']);
    // A broadcast is accepted once every session's copy is stored.
    a.send({ type: 'broadcast', id: 'b-1', data: 'all' });
    expect(await a.next((f) => f.ref === 'b-1')).toEqual({ type: 'accepted', ref: 'b-1' });
    // payload_too_large instead of accepted.
    a.send({ type: 'send', id: 'big', to: 'c1', data: 'x'.repeat(8100) });
    expect(await a.next((f) => f.ref === 'big')).toMatchObject({ type: 'error', code: 'payload_too_large' });
  });
});

describe('opt-in agent acknowledgements', () => {
  it('unacknowledged messages go again to the next connection, same id, redelivered, before newer ones', async () => {
    const b = await broker();
    const c = await client(b, 'c1');
    const a = await ackingAgent(b);
    expect(a.welcome.acks).toBe(true);
    for (const n of [1, 2, 3]) c.send({ type: 'message', id: `c-${n}`, data: n });
    const got = [await a.next('client.message'), await a.next('client.message'), await a.next('client.message')];
    a.send({ type: 'ack', id: got[0]!.id });
    a.send({ type: 'ack', id: 'unknown-id' }); // ignored, no error
    a.send({ type: 'send', id: 'mark', to: 'c1', data: 'm' }); // the broker read the acks before this
    await a.next((f) => f.ref === 'mark');
    expect(a.all('error')).toEqual([]);
    a.ws.terminate();
    c.send({ type: 'message', id: 'c-4', data: 4 }); // newer, while the name has no connection
    await c.next((f) => f.ref === 'c-4' && f.type === 'accepted');
    const a2 = await ackingAgent(b, 'default', true);
    const again = [await a2.next('client.message'), await a2.next('client.message'), await a2.next('client.message')];
    expect(again.map((f) => [f.id, f.data, f.redelivered])).toEqual([
      [got[1]!.id, 2, true],
      [got[2]!.id, 3, true],
      [expect.any(String), 4, undefined],
    ]);
    const metrics = await (await fetch(`${b.url}/metrics`)).text();
    expect(metrics).toMatch(/agent_bridge_frames_redelivered_total 2/);
  });

  it('an ack with an `ids` list (our extension, welcome ackIds) acknowledges every id in it; a bad list is an error, nothing acknowledged', async () => {
    const b = await broker();
    const c = await client(b, 'c1');
    const a = await ackingAgent(b);
    expect(a.welcome.ackIds).toBe(true);
    for (const n of [1, 2, 3, 4, 5]) c.send({ type: 'message', id: `c-${n}`, data: n });
    const got: Frame[] = [];
    for (let i = 0; i < 5; i++) got.push(await a.next('client.message'));
    // The SDK's shape (id first, then ids): the broker's fast path.
    a.send({ type: 'ack', id: got[0]!.id, ids: [got[1]!.id, 'unknown-id'] });
    // Another key order: the schema path, same meaning.
    a.ws.send(JSON.stringify({ ids: [got[2]!.id], type: 'ack', id: got[3]!.id }));
    // Invalid lists are refused whole: got[4] stays unacknowledged.
    a.send({ type: 'ack', id: got[4]!.id, ids: [] });
    a.send({ type: 'ack', id: got[4]!.id, ids: Array.from({ length: 1001 }, (_, i) => `x-${i}`) });
    a.send({ type: 'send', id: 'mark', to: 'c1', data: 'm' });
    await a.next((f) => f.ref === 'mark');
    expect(a.all('error').map((f) => f.code)).toEqual(['invalid_message', 'invalid_message']);
    a.ws.terminate();
    const a2 = await ackingAgent(b);
    const again = await a2.next('client.message');
    expect([again.id, again.redelivered]).toEqual([got[4]!.id, true]);
    c.send({ type: 'message', id: 'c-6', data: 6 });
    expect((await a2.next('client.message')).data).toBe(6);
  });

  it('to the remaining connection of a pool at once; v1 connections (no opt-in) get no redelivery and their acks are ignored', async () => {
    const b = await broker();
    const c = await client(b, 'c1');
    const first = await ackingAgent(b, 'pool');
    c.send({ type: 'message', id: 'c-1', agent: 'pool', data: 1 });
    const m = await first.next('client.message');
    const v1 = await agent(b, { name: 'pool' }); // joins; c1 stays pinned to `first`
    expect(v1.welcome.acks).toBeUndefined();
    first.ws.terminate();
    const again = await v1.next('client.message');
    expect(again).toMatchObject({ id: m.id, redelivered: true, data: 1 });
    // v1 holds for the v1 connection: its ack is ignored, and when it goes nothing comes again.
    v1.send({ type: 'ack', id: again.id });
    c.send({ type: 'message', id: 'c-2', agent: 'pool', data: 2 });
    await v1.next((f) => f.type === 'client.message' && f.data === 2);
    expect(v1.all('error')).toEqual([]);
    v1.ws.terminate();
    const next = await ackingAgent(b, 'pool');
    c.send({ type: 'message', id: 'c-3', agent: 'pool', data: 3 });
    expect((await next.next('client.message')).data).toBe(3);
    expect(next.all('client.message')).toHaveLength(1);
  });

  it('kept at most AGENT_QUEUE_LIMIT per name: beyond, the oldest count as delivered', async () => {
    const b = await broker({ AGENT_QUEUE_LIMIT: '2' });
    const c = await client(b, 'c1');
    const a = await ackingAgent(b);
    for (const n of [1, 2, 3]) c.send({ type: 'message', id: `c-${n}`, data: n });
    for (let i = 0; i < 3; i++) await a.next('client.message');
    a.ws.terminate();
    const a2 = await ackingAgent(b);
    const again = [await a2.next('client.message'), await a2.next('client.message')];
    expect(again.map((f) => f.data)).toEqual([2, 3]);
    c.send({ type: 'message', id: 'c-4', data: 4 });
    expect((await a2.next('client.message')).data).toBe(4);
  });
});
