/**
 * Per-IP limit for POST /api/clients and /auth/* (RATE_LIMIT_HTTP_PER_MIN). One limiter (one
 * budget per IP) is mounted on both, so a client cannot double its allowance by alternating.
 */
import { rateLimit, MemoryStore, type RateLimitRequestHandler } from 'express-rate-limit';
import { sendError } from './errors.ts';

export interface HttpRateLimit {
  middleware: RateLimitRequestHandler;
  /** Stops the store's timer. */
  close(): void;
}

export function createHttpRateLimit(perMinute: number): HttpRateLimit {
  const store = new MemoryStore();
  const middleware = rateLimit({
    windowMs: 60_000,
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
  return { middleware, close: () => store.shutdown() };
}
