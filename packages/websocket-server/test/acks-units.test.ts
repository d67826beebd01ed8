// §8 de-duplication memory: its bounds (per session: the last 1,000 ids; per agent name: the last
// 10,000 within SESSION_TTL_MS) and the redelivered rewrite.
import { describe, expect, it } from 'vitest';
import { AGENT_IDS_KEPT, AgentIdMemory, CLIENT_IDS_KEPT, ClientIdMemory, idHash } from '../src/acks-ids.ts';
import { UnackedMessages, redelivered } from '../src/acks-unacked.ts';
import { fastAckId } from '../src/acks.ts';

describe('ClientIdMemory', () => {
  it('remembers at least the last 1,000 ids of a session, forgets older ones and expired sessions', () => {
    const m = new ClientIdMemory();
    for (let i = 1; i <= CLIENT_IDS_KEPT + 10; i++) m.remember('s', `c-${i}`);
    expect(m.seen('s', 'c-11')).toBe(true);
    expect(m.seen('s', `c-${CLIENT_IDS_KEPT + 10}`)).toBe(true);
    expect(m.seen('s', 'c-10')).toBe(false);
    expect(m.seen('other', 'c-11')).toBe(false);
    m.forget('s');
    expect(m.seen('s', 'c-11')).toBe(false);
    expect(m.size).toBe(0);
  });

  it('its index answers exactly as a scan of the last N ids would, through growth, eviction and colliding slots', () => {
    // Small caps make the ring wrap many times; ids are random so index slots collide and shift.
    for (const cap of [1, 3, 8, 37, CLIENT_IDS_KEPT]) {
      const m = new ClientIdMemory(cap);
      const kept: string[] = [];
      let seed = cap;
      const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % 5000);
      for (let step = 0; step < 6 * cap + 200; step++) {
        const id = `c-${rnd()}`;
        const expected = kept.includes(id);
        expect(m.seen('s', id)).toBe(expected);
        if (!expected) {
          m.remember('s', id);
          kept.push(id);
          if (kept.length > cap) kept.shift();
        }
      }
      for (let i = 0; i < 5000; i++) expect(m.seen('s', `c-${i}`)).toBe(kept.includes(`c-${i}`));
      // The snapshot keeps the order: a restored memory evicts the same ids next.
      const copy = new ClientIdMemory(cap);
      copy.restore(m.snapshot());
      for (let i = 0; i < 5000; i++) expect(copy.seen('s', `c-${i}`)).toBe(kept.includes(`c-${i}`));
    }
  });
});

describe('AgentIdMemory', () => {
  it('per name, within the TTL, at most AGENT_IDS_KEPT', () => {
    const m = new AgentIdMemory(1000);
    m.remember('a', 'x', 0);
    expect(m.seen('a', 'x', 999)).toBe(true);
    expect(m.seen('a', 'x', 1000)).toBe(false);
    expect(m.seen('b', 'x', 10)).toBe(false);
    for (let i = 0; i <= AGENT_IDS_KEPT; i++) m.remember('n', `id-${i}`, 5);
    expect(m.seen('n', 'id-0', 6)).toBe(false);
    expect(m.seen('n', 'id-1', 6)).toBe(true);
    m.sweep(10_000);
    expect(m.seen('n', 'id-1', 6)).toBe(false);
  });

  it('answers as a plain list of (id, expiry) would, through re-adds, expiry, the cap, growth and a snapshot', () => {
    // The reference: every remember appends; the cap and expiry drop from the oldest end; an id
    // remembered again is held until its newest expiry (its older entry no longer counts).
    class Reference {
      entries: { id: string; until: number }[] = [];
      latest = new Map<string, { id: string; until: number }>();
      constructor(private readonly cap: number) {}
      remember(id: string, until: number, now: number) {
        const e = { id, until };
        this.latest.set(id, e);
        if (this.entries.length === this.cap) this.evict();
        this.entries.push(e);
        while (this.entries.length > 0 && (this.entries[0]!.until <= now || this.latest.get(this.entries[0]!.id) !== this.entries[0])) this.evict();
      }
      evict() {
        const e = this.entries.shift()!;
        if (this.latest.get(e.id) === e) this.latest.delete(e.id);
      }
      seen(id: string, now: number) {
        const e = this.latest.get(id);
        return e !== undefined && e.until > now;
      }
    }
    for (const cap of [1, 3, 8, 64, 100, 700]) {
      const ttl = 50;
      const m = new AgentIdMemory(ttl, cap);
      const ref = new Reference(cap);
      let seed = cap * 7 + 1;
      const rnd = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n);
      let now = 1_000;
      for (let step = 0; step < 8 * cap + 400; step++) {
        now += rnd(4); // often the same millisecond
        const id = `a-${rnd(cap * 2 + 5)}`;
        expect(m.seen('n', id, now), `step ${step}: ${id}`).toBe(ref.seen(id, now));
        m.remember('n', id, now);
        ref.remember(id, now + ttl, now);
      }
      for (let i = 0; i < cap * 2 + 5; i++) expect(m.seen('n', `a-${i}`, now)).toBe(ref.seen(`a-${i}`, now));
      const copy = new AgentIdMemory(ttl, cap);
      copy.restore(m.snapshot(), now);
      for (let i = 0; i < cap * 2 + 5; i++) expect(copy.seen('n', `a-${i}`, now)).toBe(ref.seen(`a-${i}`, now));
      // Everything expired: the name goes.
      m.sweep(now + ttl + 1);
      expect(m.snapshot()).toEqual([]);
    }
  });

  it('hashes distinct ids apart (52 bits)', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 50_000; i++) seen.add(idHash(`a-xyz-${i}`));
    expect(seen.size).toBe(50_000);
    expect(idHash('c-1')).toBeLessThan(2 ** 52);
  });
});

describe('UnackedMessages', () => {
  const entry = (msgId: string, sentAt = Date.now()) => ({ agent: 'n', clientId: 'c', ref: undefined, payload: `{"type":"client.message","id":"${msgId}"}`, bytes: 30, sentAt, msgId });
  it('keeps per connection in order, acks only from the holder, bounds per name and by age', () => {
    const u = new UnackedMessages(2, 1000);
    u.sent('n', 'A', entry('1'));
    u.sent('n', 'A', entry('2'));
    expect(u.ack('n', 'B', '1')).toBe(false);
    u.sent('n', 'A', entry('3')); // over the bound: 1 counts as delivered
    expect(u.take('n', 'A').map((e) => JSON.parse(e.payload))).toEqual([
      { type: 'client.message', id: '2', redelivered: true },
      { type: 'client.message', id: '3', redelivered: true },
    ]);
    u.sent('n', 'A', entry('old', Date.now() - 2000));
    expect(u.take('n', 'A')).toEqual([]);
    expect(u.size).toBe(0);
  });
  it('redelivered() marks once', () => {
    const e = redelivered(redelivered(entry('x')));
    expect(JSON.parse(e.payload)).toEqual({ type: 'client.message', id: 'x', redelivered: true });
    expect(e.bytes).toBe(30 + ',"redelivered":true'.length);
  });
});

describe('fastAckId', () => {
  it('reads the SDK shapes, one id or id + ids, and leaves everything else to the schema path', () => {
    expect(fastAckId('{"type":"ack","id":"m-1"}')).toBe('m-1');
    expect(fastAckId(JSON.stringify({ type: 'ack', id: 'm-1', ids: ['m-2', 'm"3'] }))).toEqual(['m-1', 'm-2', 'm"3']);
    for (const text of [
      '{"type":"ack","id":""}',
      '{"type":"ack","id":"m-1","ids":[]}',
      '{"type":"ack","id":"m-1","ids":[""]}',
      '{"type":"ack","id":"m-1","ids":[1]}',
      JSON.stringify({ type: 'ack', id: 'm-1', ids: Array.from({ length: 1001 }, (_, i) => `x${i}`) }),
      '{"type":"ack","id":"m-1","ids":["a"]',
      '{"id":"m-1","type":"ack"}',
    ]) expect(fastAckId(text)).toBeUndefined();
  });
});
