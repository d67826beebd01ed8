/**
 * Per-IP limit for POST /api/clients and /auth/* (RATE_LIMIT_HTTP_PER_MIN). One limiter (one
 * budget per IP) is mounted on both, so a client cannot double its allowance by alternating.
 * The count lives in a HitCounter: this process's (memory), or Redis in cluster mode, where it is
 * counted across every web server (PROTOCOL §10). While Redis cannot be reached the limit is
 * counted here instead (per web server), so POST /api/clients — stateless — keeps working.
 */
import { rateLimit, type RateLimitRequestHandler, type Store } from 'express-rate-limit';
import { StoreUnavailable } from '../cluster/unavailable.ts';
import { sendError } from './errors.ts';
import type { HitCounter, Hits } from './rate-limit-store.ts';
import { MemoryHitCounter } from './rate-limit-store-memory.ts';

export interface HttpRateLimit {
  middleware: RateLimitRequestHandler;
  /** Stops the counters' timers. */
  close(): void;
}

export const HTTP_RATE_WINDOW_MS = 60_000;

/** `shared`: the cluster's counter (Redis); unset: this process counts alone. */
export function createHttpRateLimit(perMinute: number, shared?: HitCounter): HttpRateLimit {
  const local = new MemoryHitCounter({ windowMs: HTTP_RATE_WINDOW_MS });
  const store = counterStore(shared ?? local, shared ? local : undefined);
  const middleware = rateLimit({
    windowMs: HTTP_RATE_WINDOW_MS,
    limit: perMinute,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    store,
    // With TRUST_PROXY=false an X-Forwarded-For header is ignored on purpose (anyone can send
    // one); the library's warning about it would fire on every such request.
    validate: { xForwardedForHeader: false },
    handler: (_req, res, _next, options) => {
      sendError(res, options.statusCode, 'rate_limited', 'too many requests from this address; try again later');
    },
  });
  return {
    middleware,
    close: () => {
      local.close();
      shared?.close();
    },
  };
}

/** express-rate-limit's Store over a HitCounter, counting in `fallback` while the counter is unreachable. */
function counterStore(counter: HitCounter, fallback: MemoryHitCounter | undefined): Store {
  return {
    localKeys: fallback === undefined,
    async increment(key) {
      let hits: Hits;
      try {
        hits = await counter.hit(key);
      } catch (err) {
        if (!fallback || !(err instanceof StoreUnavailable)) throw err;
        hits = fallback.hitNow(key);
      }
      return { totalHits: hits.count, resetTime: new Date(hits.resetAtMs) };
    },
    async decrement(key) {
      await counter.unhit(key).catch(() => undefined);
    },
    async resetKey(key) {
      await counter.reset(key).catch(() => undefined);
    },
  };
}
