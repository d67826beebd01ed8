/**
 * PendingIdRecords (store/redis/pending-id-records.ts): §8 ids accepted in a cluster wait for
 * their session's next intake; only those no intake took within a whole tick are written alone.
 * Pure timing logic (no Redis): fake timers drive the ticks.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PendingIdRecords, RECORD_DELAY_MS } from '../src/store/redis/pending-id-records.ts';

describe('PendingIdRecords', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  const ids = (pairs: string[]) => pairs.filter((_, i) => i % 2 === 0);

  it('writes a session alone only once its ids have waited a whole tick', () => {
    const flushed: [string, string[]][] = [];
    const p = new PendingIdRecords((c, pairs) => flushed.push([c, ids(pairs)]));
    p.add('a', 'a-1');
    vi.advanceTimersByTime(RECORD_DELAY_MS - 1);
    p.add('b', 'b-1');
    vi.advanceTimersByTime(1); // first tick: both were added within it
    expect(flushed).toEqual([]);
    p.add('c', 'c-1');
    vi.advanceTimersByTime(RECORD_DELAY_MS); // second tick: a and b have waited a whole tick, c has not
    expect(flushed).toEqual([
      ['a', ['a-1']],
      ['b', ['b-1']],
    ]);
    vi.advanceTimersByTime(RECORD_DELAY_MS);
    expect(flushed.at(-1)).toEqual(['c', ['c-1']]);
    expect(p.size).toBe(0);
    // Nothing pending: the timer stops (no tick writes anything more).
    vi.advanceTimersByTime(10 * RECORD_DELAY_MS);
    expect(flushed).toHaveLength(3);
  });

  it('a busy session is taken by its next intake and never written alone', () => {
    const flushed: string[] = [];
    const p = new PendingIdRecords((c) => flushed.push(c));
    const taken: string[] = [];
    for (let i = 0; i < 20; i++) {
      p.add('busy', `m-${i}`);
      expect(p.has('busy', `m-${i}`)).toBe(true);
      vi.advanceTimersByTime(RECORD_DELAY_MS / 2);
      taken.push(...ids(p.take('busy') ?? []));
    }
    expect(flushed).toEqual([]);
    expect(taken).toEqual(Array.from({ length: 20 }, (_, i) => `m-${i}`));
  });

  it('keeps order: restored pairs go ahead of later ones, each with the time it was accepted', () => {
    const flushed: string[][] = [];
    const p = new PendingIdRecords((_, pairs) => flushed.push(pairs));
    p.add('s', 'x-1');
    const pairs = p.take('s')!;
    p.add('s', 'x-2');
    p.restore('s', pairs);
    vi.advanceTimersByTime(2 * RECORD_DELAY_MS);
    expect(flushed).toHaveLength(1);
    expect(ids(flushed[0]!)).toEqual(['x-1', 'x-2']);
    expect(Number(flushed[0]![3])).toBeGreaterThanOrEqual(Number(flushed[0]![1]));
    expect(Math.abs(Number(flushed[0]![1]) - Date.now())).toBeLessThan(60_000);
  });

  it('forget drops a session; flushAll writes everything at once', () => {
    const flushed: string[] = [];
    const p = new PendingIdRecords((c) => flushed.push(c));
    p.add('gone', 'g-1');
    p.forget('gone');
    expect(p.has('gone', 'g-1')).toBe(false);
    p.add('k', 'k-1');
    p.flushAll();
    expect(flushed).toEqual(['k']);
    vi.advanceTimersByTime(3 * RECORD_DELAY_MS);
    expect(flushed).toEqual(['k']);
  });
});
