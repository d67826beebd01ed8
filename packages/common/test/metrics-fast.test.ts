/**
 * FastCounter / FastHistogram (metrics-fast.ts) must expose exactly what prom-client's own
 * Counter / Histogram expose after the same calls — they only move the numbers into prom-client's
 * series when read — and reject what prom-client rejects. This also pins the prom-client internals
 * FastHistogram folds into (its per-series `bucketValues`, `sum`, `count`): an upgrade that moves
 * them fails here.
 */
import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FastCounter, FastHistogram } from '../src/metrics-fast.ts';

const BUCKETS = [0.001, 0.01, 0.1, 1];

function pair() {
  const ref = new Registry();
  const fast = new Registry();
  const mk = (reg: Registry, fastOnes: boolean) => ({
    c: new (fastOnes ? FastCounter : Counter)({ name: 'c_total', help: 'c', labelNames: ['kind', 'type'] as const, registers: [reg] }),
    n: new (fastOnes ? FastCounter : Counter)({ name: 'n_total', help: 'n', registers: [reg] }),
    h: new (fastOnes ? FastHistogram : Histogram)({ name: 'h_seconds', help: 'h', labelNames: ['kind'] as const, buckets: BUCKETS, registers: [reg] }),
    u: new (fastOnes ? FastHistogram : Histogram)({ name: 'u_seconds', help: 'u', buckets: BUCKETS, registers: [reg] }),
  });
  return { ref, fast, a: mk(ref, false), b: mk(fast, true) };
}

describe('fast counters and histograms', () => {
  it('expose what prom-client exposes after the same calls, read after read', async () => {
    const { ref, fast, a, b } = pair();
    const values = [0, 0.0005, 0.001, 0.005, 0.01, 0.3, 1, 7, 1e-9];
    for (const m of [a, b]) {
      m.c.inc({ kind: 'client', type: 'message' });
      m.c.inc({ kind: 'client', type: 'message' }, 5);
      m.c.inc({ type: 'send', kind: 'agent' }, 2);
      m.c.labels('agent', 'send').inc();
      m.c.labels({ kind: 'upstream', type: 'any' }).inc(3);
      m.n.inc();
      m.n.inc(4);
      for (const v of values) m.h.observe({ kind: 'client' }, v);
      m.h.labels('agent').observe(0.02);
      for (const v of values) m.u.observe(v);
    }
    expect(await fast.metrics()).toBe(await ref.metrics());
    expect(await b.h.get()).toEqual(await a.h.get());
    for (const m of [a, b]) {
      m.c.inc({ kind: 'client', type: 'message' }, 0.5);
      m.h.observe({ kind: 'client' }, 0.05);
      m.u.observe(2);
    }
    expect(await fast.metrics()).toBe(await ref.metrics());
    for (const m of [a, b]) {
      m.c.reset();
      m.h.reset();
      m.c.inc({ kind: 'client', type: 'message' });
      m.h.observe({ kind: 'agent' }, 0.5);
      (m.h as Histogram<'kind'>).remove({ kind: 'agent' });
      m.h.observe({ kind: 'client' }, 0.5);
    }
    expect(await fast.metrics()).toBe(await ref.metrics());
  });

  it('reject what prom-client rejects', () => {
    const { b } = pair();
    expect(() => b.c.inc({ kind: 'client', type: 'x' }, -1)).toThrow(/decrease/);
    expect(() => b.c.inc({ kind: 'client', type: 'x' }, Number.POSITIVE_INFINITY)).toThrow(/not a valid number/);
    expect(() => b.c.inc({ kind: 'client', bogus: 'x' } as never)).toThrow(/bogus/);
    expect(() => b.h.observe({ kind: 'client' }, Number.POSITIVE_INFINITY)).toThrow(/not a valid number/);
    expect(() => b.h.observe({ bogus: 'x' } as never, 1)).toThrow(/bogus/);
  });
});
