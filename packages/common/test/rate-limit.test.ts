import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClientRateLimiter, FLOOD_BURSTS, TokenBucket } from '../src/rate-limit.ts';

// Fake timers move Date.now, which every bucket reads by default: no injected clock, no sleeps.
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('TokenBucket', () => {
  it('gives the burst, then refills at the rate, never above the burst', () => {
    const b = new TokenBucket(10, 3);
    expect([b.take(), b.take(), b.take(), b.take()]).toEqual([true, true, true, false]);
    vi.advanceTimersByTime(100);
    expect([b.take(), b.take()]).toEqual([true, false]);
    vi.advanceTimersByTime(10_000);
    expect([b.take(), b.take(), b.take(), b.take()]).toEqual([true, true, true, false]);
  });

  it('peek looks without taking; retryAfterS rounds up; full after a complete refill', () => {
    const b = new TokenBucket(0.5, 2);
    expect(b.full).toBe(true);
    expect(b.take() && b.take()).toBe(true);
    expect(b.peek()).toBe(false);
    expect(b.retryAfterS()).toBe(2);
    vi.advanceTimersByTime(1_000);
    expect(b.retryAfterS()).toBe(1);
    vi.advanceTimersByTime(1_000);
    expect(b.peek()).toBe(true);
    expect(b.peek()).toBe(true);
    expect(b.full).toBe(false);
    vi.advanceTimersByTime(2_000);
    expect(b.full).toBe(true);
  });
});

describe('ClientRateLimiter', () => {
  it(`calls it abuse after ${FLOOD_BURSTS}×burst refusals in a row; an accepted frame resets the count`, () => {
    const l = new ClientRateLimiter(1, 2);
    expect([l.check(), l.check()]).toEqual(['ok', 'ok']);
    for (let i = 0; i < 19; i++) expect(l.check()).toBe('limited');
    vi.advanceTimersByTime(1_000);
    expect(l.check()).toBe('ok');
    for (let i = 0; i < 19; i++) expect(l.check()).toBe('limited');
    expect(l.check()).toBe('abuse');
  });

  it('hands its state on: a limiter started from it goes on where this one stopped (tokens, refill time, refusals)', () => {
    const l = new ClientRateLimiter(1, 2);
    expect([l.check(), l.check(), l.check()]).toEqual(['ok', 'ok', 'limited']);
    const next = new ClientRateLimiter(1, 2, undefined, l.state);
    expect(next.state).toEqual(l.state);
    for (let i = 0; i < 18; i++) expect(next.check()).toBe('limited');
    // The refusal carried over makes this the 20th in a row.
    expect(next.check()).toBe('abuse');
    vi.advanceTimersByTime(1_000);
    expect(next.check()).toBe('ok');
    // A fresh one starts full.
    expect(new ClientRateLimiter(1, 2).state).toMatchObject({ tokens: 2, refused: 0 });
  });
});
