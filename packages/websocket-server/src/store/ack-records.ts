/**
 * PROTOCOL §8 records that de-duplicate resent frames: the ids a session's client had accepted
 * (its last 1,000, for the session's life) and the ids an agent name had accepted (for
 * SESSION_TTL_MS). In one process they are the hash rings of acks-ids.ts; in a cluster they are in
 * Redis, so a resend to another broker is still recognised. An id is recorded only once its frame
 * is accepted, so a resend after a refusal is taken again.
 */
import type { Awaitable } from './awaitable.ts';

export interface AckRecords {
  /** True when this session already used `id` (a resend): answer accepted, route nothing. */
  seenFromClient(clientId: string, id: string): Awaitable<boolean>;
  /** The frame with `id` was accepted. */
  acceptedFromClient(clientId: string, id: string): Awaitable<void>;
  forgetClient(clientId: string): Awaitable<void>;
  seenFromAgent(name: string, id: string): Awaitable<boolean>;
  acceptedFromAgent(name: string, id: string): Awaitable<void>;
}
