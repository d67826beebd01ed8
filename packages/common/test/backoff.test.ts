// The redial schedule, in virtual time: a tiny redialer built on Backoff the way every dialing side
// uses it (wait next(), dial, reset() once a connection stayed up BACKOFF_RESET_AFTER_MS).
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { BACKOFF_RESET_AFTER_MS, Backoff } from '../src/protocol/backoff.ts';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** Dials after each backoff step; `fails()` decides whether a dial fails at once. */
function redialer(backoff: Backoff, fails: () => boolean) {
  const dials: number[] = [];
  const start = Date.now();
  let reset: ReturnType<typeof setTimeout> | undefined;
  const drop = () => {
    clearTimeout(reset);
    setTimeout(dial, backoff.next());
  };
  const dial = () => {
    dials.push(Date.now() - start);
    if (fails()) return drop();
    reset = setTimeout(() => backoff.reset(), BACKOFF_RESET_AFTER_MS);
  };
  return { dials, drop };
}

it('waits 1 s, 2 s, 4 s … between failed dials, capped at 60 s (no jitter)', () => {
  const r = redialer(new Backoff({ jitter: 0 }), () => true);
  r.drop();
  vi.advanceTimersByTime(1000 + 2000 + 4000 + 8000 + 16_000 + 32_000 + 60_000 + 60_000);
  expect(r.dials).toEqual([1000, 3000, 7000, 15_000, 31_000, 63_000, 123_000, 183_000]);
});

it('starts again from 1 s only once a connection stayed up BACKOFF_RESET_AFTER_MS', () => {
  const t0 = Date.now();
  let failing = 2;
  const r = redialer(new Backoff({ jitter: 0 }), () => failing-- > 0);
  r.drop(); // two failed dials (after 1 s, 2 s), then one that holds
  vi.advanceTimersByTime(1000 + 2000 + 4000);
  expect(r.dials).toEqual([1000, 3000, 7000]);
  vi.advanceTimersByTime(BACKOFF_RESET_AFTER_MS - 1);
  let at = Date.now() - t0;
  r.drop(); // dropped just before the reset: the schedule goes on (8 s)
  vi.advanceTimersByTime(8000);
  expect(r.dials.at(-1)).toBe(at + 8000);
  vi.advanceTimersByTime(BACKOFF_RESET_AFTER_MS);
  at = Date.now() - t0;
  r.drop(); // this one stayed up long enough: 1 s again
  vi.advanceTimersByTime(1000);
  expect(r.dials.at(-1)).toBe(at + 1000);
});

it('spreads each wait ±jitter around the step, and attempts counts the steps taken', () => {
  const low = new Backoff({ random: () => 0 });
  const high = new Backoff({ random: () => 1 });
  expect([low.next(), low.next(), low.next()]).toEqual([800, 1600, 3200]);
  expect([high.next(), high.next(), high.next()]).toEqual([1200, 2400, 4800]);
  expect(low.attempts).toBe(3);
  low.reset();
  expect(low.attempts).toBe(0);
  expect(low.next()).toBe(800);
});
