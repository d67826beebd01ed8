/**
 * §8 in a cluster: client ids accepted but not yet written to their session's `{clientId}:ids`.
 * They are written by that session's next intake script (client-intake-redis.ts), which runs
 * anyway when the client keeps sending, so a busy client's batch costs no separate round trip for
 * them; ids no intake took within one to two RECORD_DELAY_MS are written on their own
 * (ack-records-redis.ts).
 *
 * Why a delay is safe: until its id is recorded, a resend of the frame is still recognised where
 * the frame was stored (the hold's `{a:name}:refs`, the wait queue's `{q}:refs`: SESSION_TTL_MS,
 * CLUSTER_REFS_LIMIT), exactly as when the broker dies between storing a frame and recording its
 * id. The record is what remembers the id for the rest of the session's life.
 */
import { CLIENT_IDS_KEPT } from '../../acks-ids.ts';

/**
 * How long an accepted id waits for its session's next intake before it is written alone: between
 * one and two of these (the tick it was accepted in, and one whole tick more).
 */
export const RECORD_DELAY_MS = 20;

/**
 * Lua for the start of a script (after REFS_LUA) whose KEYS[2] is the session's ids and KEYS[3]
 * its record: writes `n` (id, time) pairs found in ARGV from `at` (at least the last
 * CLIENT_IDS_KEPT are kept: REFS_LUA's generations), and gives a new generation the record's TTL
 * (none while the session is attached).
 */
export function recordLua(n: string, at: string): string {
  return `
if ${n} > 0 then
  local _, created = remember(KEYS[2], {unpack(ARGV, ${at}, ${at} + 2 * ${n} - 1)}, ${CLIENT_IDS_KEPT})
  -- A key that existed has the record's TTL state already: the session store's scripts persist
  -- or expire every key of the session together (keys.ts sessionKeys). A new one takes it here.
  if created then
    local ttl = redis.call('PTTL', KEYS[3])
    if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
  end
end
`;
}

/**
 * Per session: id, time, id, time … in the order they were accepted, and the tick in which the
 * first of them was added.
 */
interface Pending {
  pairs: string[];
  tick: number;
}

export class PendingIdRecords {
  private readonly byClient = new Map<string, Pending>();
  private timer: NodeJS.Timeout | undefined;
  /** Counts RECORD_DELAY_MS ticks; a session's ids wait out the rest of their own tick and one more. */
  private tick = 0;

  /** `flush`: writes what no intake took within one to two RECORD_DELAY_MS. */
  constructor(private readonly flush: (clientId: string, pairs: string[]) => void) {}

  add(clientId: string, id: string): void {
    const at = String(Date.now());
    const pending = this.byClient.get(clientId);
    if (pending) pending.pairs.push(id, at);
    else this.byClient.set(clientId, { pairs: [id, at], tick: this.tick });
    this.arm();
  }

  /** The session's pending pairs, now the caller's to write (removed here). */
  take(clientId: string): string[] | undefined {
    const pending = this.byClient.get(clientId);
    if (pending) this.byClient.delete(clientId);
    return pending?.pairs;
  }

  /** Pairs taken for a write that failed: ahead of any added since. */
  restore(clientId: string, pairs: string[]): void {
    const later = this.byClient.get(clientId);
    this.byClient.set(clientId, later ? { pairs: pairs.concat(later.pairs), tick: later.tick } : { pairs, tick: this.tick });
    this.arm();
  }

  has(clientId: string, id: string): boolean {
    const pairs = this.byClient.get(clientId)?.pairs;
    if (!pairs) return false;
    for (let i = 0; i < pairs.length; i += 2) if (pairs[i] === id) return true;
    return false;
  }

  forget(clientId: string): void {
    this.byClient.delete(clientId);
  }

  /** Writes everything pending now (shutdown, tests). */
  flushAll(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const all = [...this.byClient];
    this.byClient.clear();
    for (const [clientId, pending] of all) this.flush(clientId, pending.pairs);
  }

  get size(): number {
    return this.byClient.size;
  }

  private arm(): void {
    this.timer ??= setTimeout(() => this.onTick(), RECORD_DELAY_MS);
  }

  /**
   * Writes the sessions whose ids have waited a whole tick: not those added in the tick just ended.
   * A busy client's next intake comes within a few ms and takes its ids along; flushing every
   * session at each tick instead (as this once did) cost a script per session every 20 ms, which a
   * client sending every 12 ms would otherwise never need (measured: +0.2 scripts per round trip in
   * the cluster echo benchmark).
   */
  private onTick(): void {
    this.timer = undefined;
    const due = this.tick;
    this.tick++;
    const ready: [string, string[]][] = [];
    for (const [clientId, pending] of this.byClient) if (pending.tick < due) ready.push([clientId, pending.pairs]);
    for (const [clientId] of ready) this.byClient.delete(clientId);
    if (this.byClient.size > 0) this.arm();
    for (const [clientId, pairs] of ready) this.flush(clientId, pairs);
  }
}
