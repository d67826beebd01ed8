/**
 * §8 in a cluster: client ids accepted but not yet written to their session's `{clientId}:ids`.
 * They are written by that session's next intake script (client-intake-redis.ts), which runs
 * anyway when the client keeps sending, so a busy client's batch costs no separate round trip for
 * them; ids no intake took within RECORD_DELAY_MS are written on their own (ack-records-redis.ts).
 *
 * Why a delay is safe: until its id is recorded, a resend of the frame is still recognised where
 * the frame was stored (the hold's `{a:name}:refs`, the wait queue's `{q}:refs`: SESSION_TTL_MS,
 * CLUSTER_REFS_LIMIT), exactly as when the broker dies between storing a frame and recording its
 * id. The record is what remembers the id for the rest of the session's life.
 */
import { CLIENT_IDS_KEPT } from '../../acks-ids.ts';

/** The longest an accepted id waits for its session's next intake before it is written alone. */
export const RECORD_DELAY_MS = 20;

/**
 * Lua for the start of a script whose KEYS[2] is the session's ids and KEYS[3] its record: writes
 * `n` (score, id) pairs found in ARGV from `at`, keeps the last CLIENT_IDS_KEPT, and gives the set
 * the record's TTL (none while the session is attached).
 */
export function recordLua(n: string, at: string): string {
  return `
if ${n} > 0 then
  redis.call('ZADD', KEYS[2], unpack(ARGV, ${at}, ${at} + 2 * ${n} - 1))
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -${CLIENT_IDS_KEPT + 1})
  local ttl = redis.call('PTTL', KEYS[3])
  if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) else redis.call('PERSIST', KEYS[2]) end
end
`;
}

export class PendingIdRecords {
  /** Per session: score, id, score, id … in the order they were accepted. */
  private readonly byClient = new Map<string, string[]>();
  private order = 0;
  private timer: NodeJS.Timeout | undefined;

  /** `flush`: writes what is still pending (called RECORD_DELAY_MS after the first add). */
  constructor(private readonly flush: (clientId: string, pairs: string[]) => void) {}

  add(clientId: string, id: string): void {
    // The score orders ids by arrival (time, then a counter) so the oldest are trimmed first.
    const score = String(Date.now() * 1000 + (this.order++ % 1000));
    const pairs = this.byClient.get(clientId);
    if (pairs) pairs.push(score, id);
    else this.byClient.set(clientId, [score, id]);
    this.timer ??= setTimeout(() => this.flushAll(), RECORD_DELAY_MS);
  }

  /** The session's pending pairs, now the caller's to write (removed here). */
  take(clientId: string): string[] | undefined {
    const pairs = this.byClient.get(clientId);
    if (pairs) this.byClient.delete(clientId);
    return pairs;
  }

  /** Pairs taken for a write that failed: ahead of any added since. */
  restore(clientId: string, pairs: string[]): void {
    const later = this.byClient.get(clientId);
    this.byClient.set(clientId, later ? pairs.concat(later) : pairs);
    this.timer ??= setTimeout(() => this.flushAll(), RECORD_DELAY_MS);
  }

  has(clientId: string, id: string): boolean {
    const pairs = this.byClient.get(clientId);
    if (!pairs) return false;
    for (let i = 1; i < pairs.length; i += 2) if (pairs[i] === id) return true;
    return false;
  }

  forget(clientId: string): void {
    this.byClient.delete(clientId);
  }

  flushAll(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const all = [...this.byClient];
    this.byClient.clear();
    for (const [clientId, pairs] of all) this.flush(clientId, pairs);
  }

  get size(): number {
    return this.byClient.size;
  }
}
