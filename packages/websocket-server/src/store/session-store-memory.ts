/** The session store in this process: a Map, and the MAX_SESSIONS / per-IP counts beside it. */
import type { Attachment, QuotaRefusal, SessionBounds, SessionRecord, SessionStore } from './session-store.ts';

export class MemorySessionStore implements SessionStore {
  private readonly records = new Map<string, SessionRecord>();
  private readonly perIp = new Map<string, number>();

  constructor(private readonly bounds: SessionBounds = { maxSessions: Number.MAX_SAFE_INTEGER, maxPerIp: Number.MAX_SAFE_INTEGER }) {}

  get(clientId: string): SessionRecord | undefined {
    return this.records.get(clientId);
  }

  refusal(clientId: string, ip: string | undefined): QuotaRefusal | undefined {
    if (this.records.has(clientId)) return undefined;
    if (this.records.size >= this.bounds.maxSessions) return 'sessions';
    if (ip !== undefined && (this.perIp.get(ip) ?? 0) >= this.bounds.maxPerIp) return 'sessions_per_ip';
    return undefined;
  }

  getOrCreate(record: SessionRecord): Attachment {
    const known = this.records.get(record.clientId);
    if (known) return { record: known, created: false };
    const stored = { ...record };
    this.records.set(record.clientId, stored);
    if (record.ip !== undefined) this.perIp.set(record.ip, (this.perIp.get(record.ip) ?? 0) + 1);
    return { record: stored, created: true };
  }

  update(clientId: string, patch: Partial<Pick<SessionRecord, 'address' | 'expiresAt'>>): SessionRecord | undefined {
    const r = this.records.get(clientId);
    if (!r) return undefined;
    if (patch.address !== undefined) r.address = patch.address;
    if (patch.expiresAt !== undefined) r.expiresAt = patch.expiresAt;
    return r;
  }

  expire(clientId: string, deadline: number): SessionRecord | undefined {
    const r = this.records.get(clientId);
    if (!r || r.expiresAt === null || r.expiresAt > deadline) return undefined;
    this.records.delete(clientId);
    if (r.ip !== undefined) {
      const n = (this.perIp.get(r.ip) ?? 0) - 1;
      if (n > 0) this.perIp.set(r.ip, n);
      else this.perIp.delete(r.ip);
    }
    return r;
  }

  due(now: number, limit: number): string[] {
    const ids: string[] = [];
    for (const r of this.records.values()) {
      if (r.expiresAt !== null && r.expiresAt <= now) ids.push(r.clientId);
      if (ids.length >= limit) break;
    }
    return ids;
  }

  /** One process is one broker: no other broker can die holding a session. */
  orphan(): undefined {
    return undefined;
  }

  ids(): string[] {
    return [...this.records.keys()];
  }

  list(): SessionRecord[] {
    return [...this.records.values()];
  }

  size(): number {
    return this.records.size;
  }

  /** Every record, copied, in insertion order (snapshot.ts). */
  snapshot(): SessionRecord[] {
    return [...this.records.values()].map((r) => ({ ...r }));
  }

  /**
   * Put back records from a snapshot, each detached until `expiresAt` (their sockets are gone):
   * a client that comes back resumes, one that does not expires like any detached session. The
   * bounds are not applied (they refuse new sessions, not known ones); the per-IP counts are kept.
   */
  restore(records: readonly SessionRecord[], expiresAt: number): void {
    for (const r of records) this.getOrCreate({ ...r, expiresAt });
  }
}
