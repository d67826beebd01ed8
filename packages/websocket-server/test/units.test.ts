import { describe, expect, it, vi } from 'vitest';
import { ResumeBuffer } from '../src/resume-buffer.ts';
import { ClientRateLimiter, TokenBucket } from '../src/rate-limiter.ts';
import { rendezvousScore } from '../src/agent-pool.ts';
import { AgentWaitQueues, type WaitEntry } from '../src/agent-wait-queue.ts';
import { nowIso } from '../src/frames-out.ts';

describe('ResumeBuffer', () => {
  it('keeps frames after lastSeq and refuses a resume that needs an evicted one', () => {
    const rb = new ResumeBuffer(3, 1_000_000);
    for (let s = 1; s <= 5; s++) rb.push(s, 'message', `f${s}`);
    expect(rb.size).toBe(3);
    expect(rb.goneThrough).toBe(2);
    expect(rb.canResumeAfter(1)).toBe(false);
    expect(rb.canResumeAfter(2)).toBe(true);
    expect(rb.after(2).map((f) => f.seq)).toEqual([3, 4, 5]);
    expect(rb.after(4).map((f) => f.payload)).toEqual(['f5']);
  });

  it('bounds bytes, frees on ack, forgets on clear', () => {
    const rb = new ResumeBuffer(100, 25);
    for (let s = 1; s <= 4; s++) rb.push(s, 'message', '0123456789');
    expect(rb.size).toBe(2);
    expect(rb.byteSize).toBe(20);
    rb.ack(3);
    expect(rb.size).toBe(1);
    expect(rb.canResumeAfter(2)).toBe(false);
    expect(rb.canResumeAfter(3)).toBe(true);
    rb.clear(4);
    expect(rb.size).toBe(0);
    expect(rb.canResumeAfter(3)).toBe(false);
    expect(rb.canResumeAfter(4)).toBe(true);
  });

  it('drops a single frame larger than the byte bound at once', () => {
    const rb = new ResumeBuffer(100, 5);
    rb.push(1, 'message', 'too large');
    expect(rb.size).toBe(0);
    expect(rb.canResumeAfter(0)).toBe(false);
  });
});

describe('rate limiting', () => {
  it('token bucket: burst, then the rate', () => {
    let t = 0;
    const b = new TokenBucket(10, 3, () => t);
    expect([b.take(), b.take(), b.take(), b.take()]).toEqual([true, true, true, false]);
    t += 100;
    expect([b.take(), b.take()]).toEqual([true, false]);
    t += 10_000;
    expect([b.take(), b.take(), b.take(), b.take()]).toEqual([true, true, true, false]);
  });

  it('calls it abuse after 10×burst refusals in a row; an accepted frame resets the count', () => {
    let t = 0;
    const l = new ClientRateLimiter(1, 2, () => t);
    l.check();
    l.check();
    for (let i = 0; i < 19; i++) expect(l.check()).toBe('limited');
    t += 1000;
    expect(l.check()).toBe('ok');
    for (let i = 0; i < 19; i++) expect(l.check()).toBe('limited');
    expect(l.check()).toBe('abuse');
  });
});

describe('rendezvous hashing', () => {
  it('is deterministic and spreads clients over connections', () => {
    expect(rendezvousScore('c1', 'a1')).toBe(rendezvousScore('c1', 'a1'));
    const agents = ['a1', 'a2', 'a3'];
    const owners = new Map<string, number>();
    for (let i = 0; i < 300; i++) {
      const c = `client-${i}`;
      const best = agents.reduce((x, y) => (rendezvousScore(c, y) > rendezvousScore(c, x) ? y : x));
      owners.set(best, (owners.get(best) ?? 0) + 1);
    }
    for (const a of agents) expect(owners.get(a)).toBeGreaterThan(60);
  });
});

describe('AgentWaitQueues', () => {
  const entry = (ref: string, sentAt = Date.now()): WaitEntry => ({ agent: 'x', clientId: 'c', ref, payload: '{}', bytes: 2, sentAt });

  it('requeues at the head and rejects what exceeds the bound, newest first', () => {
    const rejected: string[] = [];
    const q = new AgentWaitQueues(3, 60_000, (e) => rejected.push(e.ref!));
    expect(q.offer(entry('n1'))).toBe('ok');
    expect(q.offer(entry('n2'))).toBe('ok');
    q.requeueFront('x', [entry('o1'), entry('o2')]);
    expect(rejected).toEqual(['n2']);
    expect(q.take('x').map((e) => e.ref)).toEqual(['o1', 'o2', 'n1']);
    expect(q.waiting).toBe(0);
    q.clear();
  });

  it('bounds what one client can have waiting across names', () => {
    const q = new AgentWaitQueues(2, 60_000, () => undefined);
    const e = (agent: string, clientId: string): WaitEntry => ({ agent, clientId, ref: undefined, payload: '{}', bytes: 2, sentAt: Date.now() });
    expect(q.offer(e('a', 'c1'))).toBe('ok');
    expect(q.offer(e('b', 'c1'))).toBe('ok');
    expect(q.offer(e('c', 'c1'))).toBe('full');
    expect(q.offer(e('c', 'c2'))).toBe('ok');
    q.take('a');
    expect(q.offer(e('c', 'c1'))).toBe('ok');
    expect(q.waiting).toBe(3);
    q.clear();
  });

  it('rejects entries whose wait ended', async () => {
    const rejected: string[] = [];
    const q = new AgentWaitQueues(10, 50, (e) => rejected.push(e.ref!));
    q.offer(entry('a'));
    q.requeueFront('x', [entry('old', Date.now() - 1000)]);
    await new Promise((r) => setTimeout(r, 120));
    expect(rejected.sort()).toEqual(['a', 'old']);
    expect(q.waiting).toBe(0);
  });
});

describe('nowIso', () => {
  it('is Date#toISOString of now, formatted again only when the millisecond changes', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const spy = vi.spyOn(Date.prototype, 'toISOString');
      vi.setSystemTime(Date.UTC(2026, 10, 26, 23, 59, 59, 998));
      const first = nowIso();
      expect(first).toBe('2026-11-26T23:59:59.998Z');
      expect(nowIso()).toBe(first);
      expect(spy).toHaveBeenCalledTimes(1);
      vi.setSystemTime(Date.UTC(2026, 10, 26, 23, 59, 59, 999));
      expect(nowIso()).toBe('2026-11-26T23:59:59.999Z');
      vi.setSystemTime(Date.UTC(2026, 10, 27, 0, 0, 0, 0));
      expect(nowIso()).toBe('2026-11-27T00:00:00.000Z');
      // A clock set back is followed too (the cache is "this millisecond", not "the latest").
      vi.setSystemTime(Date.UTC(2026, 10, 26, 23, 59, 59, 998));
      expect(nowIso()).toBe(first);
      expect(spy).toHaveBeenCalledTimes(4);
      spy.mockRestore();
    } finally {
      vi.useRealTimers();
    }
  });
});
