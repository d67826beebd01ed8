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
  /** Cluster mode: the broker (NODE_ID) whose socket holds the session; absent when none or in memory. */
  owner?: string | undefined;
}

/** What getOrCreate found: the record, and (cluster) which other broker held its socket until now. */
export interface Attachment {
  record: SessionRecord;
  created: boolean;
  /** Another broker's socket held the session (it must close it with 4500): its node id. */
  takenFrom?: string | undefined;
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
  /**
   * The record for `record.clientId`: the existing one (created: false), else `record`, stored now.
   * In a cluster this also claims the session for this broker, atomically (at most one socket per
   * clientId cluster-wide): `takenFrom` names the broker that held it.
   */
  getOrCreate(record: SessionRecord): Awaitable<Attachment>;
  /**
   * Change the address or expiry of a record; undefined when there is none. Setting `expiresAt`
   * (a socket went) is fenced in a cluster: it applies only while this broker still holds the
   * session from its latest claim, so a broker that lost it cannot detach the new socket's session.
   */
  update(clientId: string, patch: Partial<Pick<SessionRecord, 'address' | 'expiresAt'>>): Awaitable<SessionRecord | undefined>;
  /** Up to `limit` detached sessions whose expiresAt is at or before `now` (the expiry sweeper). */
  due(now: number, limit: number): Awaitable<string[]>;
  /**
   * Cluster: the broker `node` died holding the session's socket; detach it (expiresAt) unless
   * another broker took it meanwhile. The record when this call detached it (announce once).
   */
  orphan(clientId: string, node: string, expiresAt: number): Awaitable<SessionRecord | undefined>;
  /** Every clientId (broadcasts; cheaper than list() in a shared store). */
  ids(): Awaitable<string[]>;
  /** The expiry rule above: the removed record, to the one caller that removed it. */
  expire(clientId: string, deadline: number): Awaitable<SessionRecord | undefined>;
  /** Every record (broadcasts, the agent welcome's client list). */
  list(): Awaitable<SessionRecord[]>;
  /** How many records (connected and resumable sessions). */
  size(): Awaitable<number>;
}
