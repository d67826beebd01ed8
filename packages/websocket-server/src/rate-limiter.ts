// The broker's import site for the one rate-limit implementation (kept on the session, so reconnecting does not refill it).
export { ClientRateLimiter, TokenBucket } from '@agent-bridge/common';
