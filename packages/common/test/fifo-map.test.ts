// FifoMap against a Map (the reference: same semantics for set/get/has/delete/order), over random
// operation sequences that keep an old entry while thousands come and go behind it (compaction).
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { FifoMap } from '../src/fifo-map.ts';

type Op =
  | { op: 'set'; key: number; value: number }
  | { op: 'delete'; key: number }
  | { op: 'deleteOldest' }
  | { op: 'shift' }
  | { op: 'clear' }
  | { op: 'burst'; n: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 30, arbitrary: fc.record({ op: fc.constant('set' as const), key: fc.nat(60), value: fc.integer() }) },
  { weight: 20, arbitrary: fc.record({ op: fc.constant('delete' as const), key: fc.nat(60) }) },
  { weight: 20, arbitrary: fc.constant({ op: 'deleteOldest' as const }) },
  { weight: 5, arbitrary: fc.constant({ op: 'shift' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'clear' as const }) },
  // Thousands of fresh keys set and deleted while whatever is older stays: the front stays back.
  { weight: 2, arbitrary: fc.record({ op: fc.constant('burst' as const), n: fc.integer({ min: 500, max: 3000 }) }) },
);

describe('FifoMap', () => {
  test('behaves like a Map (order included) under any sequence of operations', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 120 }), (ops) => {
        const f = new FifoMap<number>();
        const m = new Map<string, number>();
        let fresh = 0;
        for (const o of ops) {
          switch (o.op) {
            case 'set':
              f.set(`k${o.key}`, o.value);
              m.set(`k${o.key}`, o.value);
              break;
            case 'delete':
              expect(f.delete(`k${o.key}`)).toBe(m.delete(`k${o.key}`));
              break;
            case 'deleteOldest': {
              const k = m.keys().next().value;
              if (k !== undefined) expect(f.delete(k)).toBe(m.delete(k));
              break;
            }
            case 'shift': {
              const first = m.entries().next().value;
              expect(f.shift()).toEqual(first);
              if (first) m.delete(first[0]);
              break;
            }
            case 'clear':
              f.clear();
              m.clear();
              break;
            case 'burst':
              for (let i = 0; i < o.n; i++) {
                const k = `b${fresh++}`;
                f.set(k, i);
                m.set(k, i);
                if (i >= 3) {
                  const gone = `b${fresh - 3}`;
                  expect(f.delete(gone)).toBe(m.delete(gone));
                }
              }
              break;
          }
          expect(f.size).toBe(m.size);
        }
        expect(f.entries()).toEqual([...m.entries()]);
        expect(f.values()).toEqual([...m.values()]);
        for (const [k, v] of m) {
          expect(f.has(k)).toBe(true);
          expect(f.get(k)).toBe(v);
        }
        expect(f.get('absent')).toBeUndefined();
      }),
      { numRuns: 300 },
    );
  });
});
