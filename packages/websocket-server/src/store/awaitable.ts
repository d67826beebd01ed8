/**
 * The seams' answers: a Promise for a store that has to ask elsewhere (Redis, later), the value
 * itself for one that knows at once (memory). The hot path must not pay a Promise (and a
 * microtask) per frame when the answer is already here, so callers chain with `andThen()`, which
 * runs its continuation synchronously on a plain value and awaits only a real Promise.
 */
export type Awaitable<T> = T | Promise<T>;

export const isPromise = <T>(v: Awaitable<T>): v is Promise<T> => typeof (v as Promise<T> | undefined)?.then === 'function';

/** `fn(value)`: now when `v` is a value, once it settles when it is a Promise. */
export function andThen<T, R>(v: Awaitable<T>, fn: (value: T) => Awaitable<R>): Awaitable<R> {
  return isPromise(v) ? v.then(fn) : fn(v);
}

/**
 * Run a write whose answer nobody waits for: a failure of a real Promise is reported, never left
 * unhandled (a store that cannot be reached must not crash the broker).
 */
export function settle(v: Awaitable<unknown>, onError: (err: unknown) => void): void {
  if (isPromise(v)) v.catch(onError);
}

/** `fn(values)` once every one of `vs` is there: now when none is a Promise. */
export function thenAll<T, R>(vs: Awaitable<T>[], fn: (values: T[]) => Awaitable<R>): Awaitable<R> {
  return vs.some(isPromise) ? Promise.all(vs).then(fn) : fn(vs as T[]);
}

/**
 * The value now, or `fallback` while it is a Promise: for scrape-time gauges, which must answer
 * synchronously (a shared store's gauges are read from a cache refreshed off the scrape).
 */
export function peek<T>(v: Awaitable<T>, fallback: T): T {
  if (isPromise(v)) {
    v.catch(() => undefined);
    return fallback;
  }
  return v;
}

/**
 * A scrape-time reader over a store that may answer with a Promise: the latest answer so far
 * (one scrape behind for a shared store), refreshed on each call, one request at a time.
 */
export function latest<T>(read: () => Awaitable<T>, initial: T): () => T {
  let value = initial;
  let pending = false;
  return () => {
    if (pending) return value;
    const v = read();
    if (!isPromise(v)) return (value = v);
    pending = true;
    v.then(
      (x) => {
        value = x;
      },
      () => undefined,
    ).finally(() => {
      pending = false;
    });
    return value;
  };
}
