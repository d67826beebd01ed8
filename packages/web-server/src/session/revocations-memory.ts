/**
 * Sign-out revocation records in this process (revocations.ts says what they mean). Bounded: when
 * full of live records a new sign-out is refused (the caller answers 503 over_capacity) — dropping
 * a record would silently un-revoke someone's token. The one-process default, and the local
 * mirror that RedisRevocations (revocations-redis.ts) keeps in step with the cluster.
 */
import type { RevocationStore } from './revocations.ts';

export interface RevocationsOptions {
  ttlS: number;
  maxEntries?: number;
  nowS?: () => number;
}

export class MemoryRevocations implements RevocationStore {
  private readonly records = new Map<string, { revokedAtS: number; untilS: number }>();
  private readonly ttlS: number;
  private readonly maxEntries: number;
  private readonly nowS: () => number;
  private readonly timer: NodeJS.Timeout;

  constructor(opts: RevocationsOptions) {
    this.ttlS = opts.ttlS;
    this.maxEntries = opts.maxEntries ?? 100_000;
    this.nowS = opts.nowS ?? (() => Math.floor(Date.now() / 1000));
    this.timer = setInterval(() => this.sweep(), 60_000);
    this.timer.unref();
  }

  /** Revoke every token of `clientId` issued up to now. false: the store is full. */
  async revoke(clientId: string): Promise<boolean> {
    return this.record(clientId, this.nowS());
  }

  /** Record a sign-out at `revokedAtS` (a newer record wins). false: the store is full. */
  record(clientId: string, revokedAtS: number): boolean {
    const old = this.records.get(clientId);
    if (!old && !this.hasRoom()) return false;
    if (old && old.revokedAtS >= revokedAtS) return true;
    this.records.set(clientId, { revokedAtS, untilS: revokedAtS + this.ttlS + 1 });
    return true;
  }

  /** Room for one more record (after sweeping the expired ones if needed). */
  hasRoom(): boolean {
    if (this.records.size < this.maxEntries) return true;
    this.sweep();
    return this.records.size < this.maxEntries;
  }

  isRevoked(clientId: string, iatS: number): boolean {
    const r = this.records.get(clientId);
    return r !== undefined && iatS <= r.revokedAtS && this.nowS() <= r.untilS;
  }

  /**
   * The earliest `iat` a new token of `clientId` may carry so it is not caught by its own
   * sign-out (iat has one-second granularity): one second after the revocation.
   */
  minIat(clientId: string): number | undefined {
    const r = this.records.get(clientId);
    return r === undefined ? undefined : r.revokedAtS + 1;
  }

  get size(): number {
    return this.records.size;
  }

  sweep(): void {
    const now = this.nowS();
    for (const [id, r] of this.records) if (r.untilS < now) this.records.delete(id);
  }

  close(): void {
    clearInterval(this.timer);
    this.records.clear();
  }
}
