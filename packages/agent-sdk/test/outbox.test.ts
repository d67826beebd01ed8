// The SDK's outbox (§8: frames held until `accepted`, resent in order after a redial) against a
// reference model (a Map of id → text, insertion order), over random pushes, out-of-order
// settles, drains and long-held frames that make it compact.
import { describe, expect, test } from 'vitest';
import { Outbox } from '../src/outbox.ts';

/** A small deterministic PRNG (mulberry32), so a failure replays with its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('Outbox', () => {
  test('holds in sending order; settles in any order; refuses duplicates and beyond the limit', () => {
    const o = new Outbox(3);
    o.push('a', 'A');
    o.push('b', 'B');
    expect(() => o.push('a', 'A2')).toThrow(expect.objectContaining({ code: 'invalid_frame' }));
    o.push('c', 'C');
    expect(o.full).toBe(true);
    expect(() => o.push('d', 'D')).toThrow(expect.objectContaining({ code: 'outbox_full' }));
    expect(o.settle('b')).toBe(true);
    expect(o.settle('b')).toBe(false);
    expect(o.settle('unknown')).toBe(false);
    expect(o.all()).toEqual(['A', 'C']);
    o.push('d', 'D');
    expect(o.all()).toEqual(['A', 'C', 'D']);
    // A settled id may be used again.
    expect(o.settle('a')).toBe(true);
    o.push('b', 'B2');
    expect(o.all()).toEqual(['C', 'D', 'B2']);
    expect(o.drain()).toEqual(['C', 'D', 'B2']);
    expect(o.size).toBe(0);
    expect(o.all()).toEqual([]);
    o.push('c', 'C2');
    expect(o.all()).toEqual(['C2']);
  });

  test.each([1, 2, 3, 4])('matches the reference model over 20,000 random steps (seed %i)', (seed) => {
    const r = rng(seed);
    const limit = 2000;
    const o = new Outbox(limit);
    const model = new Map<string, string>();
    let n = 0;
    // A few frames stay held for long stretches (a refused-late one, a slow broker): the front
    // stays back while thousands settle behind it, which is what makes the outbox compact.
    for (let step = 0; step < 20_000; step++) {
      const x = r();
      if (x < 0.5) {
        const id = `a-${n++}`;
        if (model.size >= limit) {
          expect(() => o.push(id, `t${id}`)).toThrow(expect.objectContaining({ code: 'outbox_full' }));
          continue;
        }
        o.push(id, `t${id}`);
        model.set(id, `t${id}`);
      } else if (x < 0.97) {
        // Mostly the oldest (accepteds come in order), sometimes any, sometimes an unknown id.
        const keys = [...model.keys()];
        const pick = x < 0.8 ? keys[0] : x < 0.95 ? keys[Math.floor(r() * keys.length)] : `nope-${step}`;
        if (pick === undefined) continue;
        // Keep the first id of every 3,000 held for a while.
        if (x < 0.8 && Number(pick.slice(2)) % 3000 === 0 && r() < 0.995) continue;
        expect(o.settle(pick)).toBe(model.delete(pick));
      } else if (x < 0.9705) {
        expect(o.drain()).toEqual([...model.values()]);
        model.clear();
      } else if (x < 0.99) {
        expect(o.all()).toEqual([...model.values()]);
      }
      expect(o.size).toBe(model.size);
      expect(o.full).toBe(model.size >= limit);
    }
    expect(o.all()).toEqual([...model.values()]);
  });
});
