/**
 * Where session records live: data only (no socket, timer or object with behaviour), so that a
 * shared store (Redis, PROTOCOL §10) can hold them for every broker. A record exists from a
 * client's first connection until its session expires. The seq counter and the frames are the
 * session log's (session-log.ts): `append` allocates the seq with the frame, atomically.
 *
 * Expiry rule (one place decides who fires `client.expired`): `expire(clientId, deadline)` removes
 * the record only when it is detached and its `expiresAt` is at or before `deadline`, and answers
 * the removed record to exactly one caller; only that caller announces the expiry. A reattach
 * clears `expiresAt`, so an expiry timer that fires late finds nothing to remove.
 */
import type { Awaitable } from './awaitable.ts';

export interface SessionRecord {
  clientId: string;
  /** The epoch the session was created in (epoch-source.ts). */
  epoch: string;
  /** The wallet address the web server vouched for, or null. */
  address: string | null;
  /** X-Client-Ip at creation (counted per IP by MAX_SESSIONS_PER_IP); absent: not counted per IP. */
  ip?: string | undefined;
  createdAt: number;
  /** When the session ends if no socket comes back (ms since epoch); null while a socket holds it. */
  expiresAt: number | null;
}

/** MAX_SESSIONS / MAX_SESSIONS_PER_IP. */
export interface SessionBounds {
  maxSessions: number;
  maxPerIp: number;
}

export type QuotaRefusal = 'sessions' | 'sessions_per_ip';

export interface SessionStore {
  get(clientId: string): Awaitable<SessionRecord | undefined>;
  /**
   * Why a new session for `clientId` from `ip` would be refused; undefined when it may attach
   * (always for a known session: resuming or replacing its socket is never refused).
   */
  refusal(clientId: string, ip: string | undefined): Awaitable<QuotaRefusal | undefined>;
  /** The record for `record.clientId`: the existing one (created: false), else `record`, stored now. */
  getOrCreate(record: SessionRecord): Awaitable<{ record: SessionRecord; created: boolean }>;
  /** Change the address or expiry of a record; undefined when there is none. */
  update(clientId: string, patch: Partial<Pick<SessionRecord, 'address' | 'expiresAt'>>): Awaitable<SessionRecord | undefined>;
  /** The expiry rule above: the removed record, to the one caller that removed it. */
  expire(clientId: string, deadline: number): Awaitable<SessionRecord | undefined>;
  /** Every record (broadcasts, the agent welcome's client list). */
  list(): Awaitable<SessionRecord[]>;
  /** How many records (connected and resumable sessions). */
  size(): Awaitable<number>;
}
