/**
 * Sign-out revocation records: clientId → the second of its sign-out. A token of that clientId
 * issued at or before it is refused until the newest such token has expired (sign-out time +
 * SESSION_TOKEN_TTL_S), after which the record goes. Bounded: when full of live records a new
 * sign-out is refused (the caller answers 503 over_capacity) — dropping a record would silently
 * un-revoke someone's token. In memory: with several web servers, each keeps its own (documented).
 */
export interface RevocationsOptions {
  ttlS: number;
  maxEntries?: number;
  nowS?: () => number;
}

export class Revocations {
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
  revoke(clientId: string): boolean {
    const now = this.nowS();
    if (!this.records.has(clientId) && this.records.size >= this.maxEntries) {
      this.sweep();
      if (this.records.size >= this.maxEntries) return false;
    }
    this.records.set(clientId, { revokedAtS: now, untilS: now + this.ttlS + 1 });
    return true;
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
