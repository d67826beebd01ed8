import { describe, expect, test } from 'vitest';
import { EventRing, OpsHistory, createServiceMetrics, quantileFromBuckets } from '../src/metrics.ts';
import { OpsSnapshot } from '../src/protocol/ops.ts';

describe('quantileFromBuckets (as histogram_quantile)', () => {
  test('interpolates inside the bucket holding the rank', () => {
    const b = [
      { le: 0.001, count: 50 },
      { le: 0.01, count: 90 },
      { le: 0.1, count: 100 },
      { le: Number.POSITIVE_INFINITY, count: 100 },
    ];
    expect(quantileFromBuckets(0.5, b)).toBeCloseTo(0.001);
    expect(quantileFromBuckets(0.7, b)).toBeCloseTo(0.001 + 0.009 * (20 / 40));
    expect(quantileFromBuckets(0.99, b)).toBeCloseTo(0.01 + 0.09 * 0.9);
    expect(quantileFromBuckets(0.25, b)).toBeCloseTo(0.0005);
  });
  test('no observations: null; the +Inf bucket answers its lower bound', () => {
    expect(quantileFromBuckets(0.99, [{ le: 1, count: 0 }, { le: Number.POSITIVE_INFINITY, count: 0 }])).toBeNull();
    expect(quantileFromBuckets(0.99, [{ le: 1, count: 1 }, { le: Number.POSITIVE_INFINITY, count: 10 }])).toBe(1);
  });
});

describe('OpsHistory', () => {
  test('samples rates and latency quantiles per interval from the service metrics', async () => {
    const m = createServiceMetrics('broker', { defaultMetrics: false });
    let now = 1_000_000;
    const h = new OpsHistory({ framesIn: m.framesIn, framesOut: m.framesOut, latency: m.deliveryLatency }, { now: () => now, keep: 2 });
    const first = await h.sample();
    expect(first.framesInPerSec).toBeNull(); // nothing to compare with yet
    expect(h.history()).toEqual([]);

    for (let i = 0; i < 100; i++) m.framesIn.inc({ kind: 'agent', type: 'send' });
    m.framesIn.inc({ kind: 'client', type: 'message' }, 100);
    m.framesOut.inc({ kind: 'client', type: 'message' }, 50);
    for (let i = 0; i < 99; i++) m.deliveryLatency.observe({ kind: 'client' }, 0.0002);
    m.deliveryLatency.observe({ kind: 'agent' }, 2);
    now += 10_000;
    const s = await h.sample();
    expect(s.framesInPerSec).toBe(20);
    expect(s.framesOutPerSec).toBe(5);
    expect(s.deliveryP50Ms!).toBeGreaterThan(0.1);
    expect(s.deliveryP50Ms!).toBeLessThanOrEqual(0.25);
    expect(s.deliveryP99Ms!).toBeLessThanOrEqual(0.25);

    // the next interval only sees its own observations
    m.deliveryLatency.observe({ kind: 'client' }, 2);
    now += 5_000;
    const s2 = await h.sample();
    expect(s2.framesInPerSec).toBe(0);
    expect(s2.deliveryP99Ms!).toBeGreaterThan(1000);
    now += 5_000;
    await h.sample();
    expect(h.history().map((x) => x.t)).toEqual([now - 5_000, now]); // keep: 2
    expect(h.latest().t).toBe(now);
  });

  test('EventRing keeps the newest first, bounded', () => {
    const r = new EventRing(2);
    for (const code of ['a', 'b', 'c']) r.push({ ts: code, code, kind: 'client' });
    expect(r.list().map((e) => e.code)).toEqual(['c', 'b']);
  });

  test('OpsSnapshot accepts a full answer and refuses a malformed one', () => {
    const sample = { t: 1, framesInPerSec: 1, framesOutPerSec: null, deliveryP50Ms: 0.2, deliveryP99Ms: null };
    const node = {
      nodeId: 'n1',
      service: 'broker',
      ready: true,
      reasons: [],
      uptimeS: 3,
      connections: { agent: 1, client: 2 },
      sessions: { connected: 2, detached: 0 },
      agents: [{ name: 'default', connections: 1, waiting: 0 }],
      recentErrors: [{ ts: 'x', code: 'rate_limited', kind: 'client', traceId: 'ab' }],
      recentCloses: [],
      now: sample,
      sampleIntervalMs: 5000,
      history: [sample],
    };
    expect(OpsSnapshot.safeParse({ generatedAt: 'x', cluster: false, nodes: [node], unreachable: [] }).success).toBe(true);
    expect(OpsSnapshot.safeParse({ generatedAt: 'x', cluster: false, nodes: [{ ...node, connections: { agent: -1 } }], unreachable: [] }).success).toBe(false);
  });
});
