/** The chaos checker alone: each kind of failure is counted, and only §8's allowed repeat passes. */
import { describe, expect, test } from 'vitest';
import { Ledger } from '../src/ledger.ts';
import { Random } from '../src/random.ts';

function sent(l: Ledger, ns: number[], stream: 'c2a' | 'push' = 'push') {
  for (const n of ns) l.sent(stream, 0, n, n);
}

describe('verdict', () => {
  test('everything once and in order is ok', () => {
    const l = new Ledger();
    sent(l, [1, 2, 3]);
    for (const n of [1, 2, 3]) l.delivered('push', 0, { n, at: 10 + n });
    const v = l.verdict();
    expect(v.ok).toBe(true);
    expect(v.totals.push).toMatchObject({ sent: 3, delivered: 3, duplicates: 0, lost: 0, reordered: 0 });
  });

  test('a message never delivered and never refused is lost', () => {
    const l = new Ledger();
    sent(l, [1, 2, 3]);
    l.delivered('push', 0, { n: 1, at: 11 });
    l.delivered('push', 0, { n: 3, at: 13 });
    const v = l.verdict();
    expect(v.ok).toBe(false);
    expect(v.totals.push.lost).toBe(1);
    expect(v.anomalies).toEqual([expect.objectContaining({ kind: 'lost', n: 2, client: 0, stream: 'push' })]);
    expect(l.outstanding('push', 0)).toEqual([2]);
  });

  test('a refused message is accounted for (by code), not lost', () => {
    const l = new Ledger();
    sent(l, [1, 2]);
    l.delivered('push', 0, { n: 1, at: 11 });
    l.refused('push', 0, 2, 'agent_unavailable');
    const v = l.verdict();
    expect(v.ok).toBe(true);
    expect(v.totals.push.refusedByCode).toEqual({ agent_unavailable: 1 });
  });

  test('refused and delivered anyway fails', () => {
    const l = new Ledger();
    sent(l, [1]);
    l.refused('push', 0, 1, 'rate_limited');
    l.delivered('push', 0, { n: 1, at: 11 });
    expect(l.verdict().totals.push.refusedButDelivered).toBe(1);
    expect(l.verdict().ok).toBe(false);
  });

  test('a second delivery is a duplicate', () => {
    const l = new Ledger();
    sent(l, [1, 2]);
    for (const n of [1, 2, 2]) l.delivered('push', 0, { n, at: 10 + n });
    const v = l.verdict();
    expect(v.totals.push.duplicates).toBe(1);
    expect(v.ok).toBe(false);
  });

  test('out of order (by receive time) is reordered', () => {
    const l = new Ledger();
    sent(l, [1, 2, 3]);
    l.delivered('push', 0, { n: 1, at: 1 });
    l.delivered('push', 0, { n: 3, at: 2 });
    l.delivered('push', 0, { n: 2, at: 3 });
    const v = l.verdict();
    expect(v.totals.push.reordered).toBe(1);
    expect(v.anomalies[0]).toMatchObject({ kind: 'reordered', n: 2 });
  });

  test('deliveries are judged in receive time order, not report order', () => {
    const l = new Ledger();
    sent(l, [1, 2], 'c2a');
    l.delivered('c2a', 0, { n: 2, at: 20, via: 'agent-2#1' });
    l.delivered('c2a', 0, { n: 1, at: 10, via: 'agent-1#1' });
    expect(l.verdict().ok).toBe(true);
  });

  test('client → agent: a §8 redelivery (same id, redelivered, another process) is allowed once the first process died', () => {
    const l = new Ledger();
    sent(l, [1, 2], 'c2a');
    l.delivered('c2a', 0, { n: 1, at: 1, id: 'x1', via: 'agent-1#1' });
    l.delivered('c2a', 0, { n: 1, at: 2, id: 'x1', redelivered: true, via: 'agent-2#1' });
    l.delivered('c2a', 0, { n: 2, at: 3, id: 'x2', via: 'agent-2#1' });
    const v = l.verdict();
    expect(v.ok).toBe(true);
    expect(v.totals.c2a.redelivered).toBe(1);
  });

  test('client → agent: a repeat without redelivered, with another id, or to the same process is a duplicate', () => {
    for (const again of [
      { id: 'x1', via: 'agent-2#1' },
      { id: 'other', redelivered: true, via: 'agent-2#1' },
      { id: 'x1', redelivered: true, via: 'agent-1#1' },
    ]) {
      const l = new Ledger();
      sent(l, [1], 'c2a');
      l.delivered('c2a', 0, { n: 1, at: 1, id: 'x1', via: 'agent-1#1' });
      l.delivered('c2a', 0, { n: 1, at: 2, ...again });
      expect(l.verdict().totals.c2a.duplicates).toBe(1);
    }
  });

  test('delivered but never sent is unexpected', () => {
    const l = new Ledger();
    sent(l, [1]);
    l.delivered('push', 0, { n: 1, at: 1 });
    l.delivered('push', 0, { n: 7, at: 2 });
    expect(l.verdict().totals.push.unexpected).toBe(1);
    expect(l.verdict().ok).toBe(false);
  });

  test('per client: one client losing a message does not hide behind another', () => {
    const l = new Ledger();
    for (const c of [0, 1]) for (const n of [1, 2]) l.sent('c2a', c, n, n);
    for (const n of [1, 2]) l.delivered('c2a', 0, { n, at: n, id: `a${n}`, via: 'a' });
    l.delivered('c2a', 1, { n: 1, at: 1, id: 'b1', via: 'a' });
    const v = l.verdict();
    expect(v.perClient[1]!.c2a.lost).toBe(1);
    expect(v.perClient[0]!.c2a.lost).toBe(0);
    expect(v.anomalies).toEqual([expect.objectContaining({ client: 1, n: 2, kind: 'lost' })]);
  });
});

test('Random is repeatable from its seed', () => {
  const a = new Random(42);
  const b = new Random(42);
  const xs = Array.from({ length: 20 }, () => a.int(0, 1000));
  expect(Array.from({ length: 20 }, () => b.int(0, 1000))).toEqual(xs);
  expect(new Set(xs).size).toBeGreaterThan(10);
});
