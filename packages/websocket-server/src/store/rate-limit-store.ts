/**
 * The token bucket of each session's frames (CLIENT_RATE_PER_SEC / CLIENT_RATE_BURST), kept per
 * clientId and not per socket, so reconnecting (to this broker or, later, another) does not refill
 * it. `take` also tells a flood from a burst: refusals in a row beyond 10 × burst are `abuse`.
 */
import type { RateVerdict } from '@agent-bridge/common';
import type { Awaitable } from './awaitable.ts';

export type { RateVerdict };

export interface RateLimitStore {
  /** Take one token for a frame of `clientId`. */
  take(clientId: string): Awaitable<RateVerdict>;
  /** The session ended: its bucket may go. */
  forget(clientId: string): Awaitable<void>;
}
