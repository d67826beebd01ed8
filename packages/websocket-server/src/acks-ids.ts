/**
 * §8 de-duplication: which frame ids were already accepted, so that a resend is answered
 * `accepted` again and delivered to nobody a second time. Bounded in memory:
 *
 * - per client session, its last CLIENT_IDS_KEPT ids (ring of 52-bit hashes, 8 KB at most; a
 *   session's frames are rate limited, so a linear scan of ≤ 1,000 numbers costs under a µs), for
 *   the session's life (forgotten when it expires);
 * - per agent name, ids of the last SESSION_TTL_MS, at most AGENT_IDS_KEPT (a Map of hash → expiry,
 *   ~0.5 MB at most per name; an agent sends far more often, so lookups must be O(1)).
 *
 * Ids are kept as hashes, not strings (up to 128 characters each): two different ids of one
 * session or name colliding in 52 bits is a ~1e-13 chance per frame, a duplicate answer we accept.
 */

/** At least this many of a session's ids are remembered (PROTOCOL §8: "at least its last 1,000"). */
export const CLIENT_IDS_KEPT = 1000;
/** Ids remembered per agent name (within SESSION_TTL_MS): ten SDK outboxes' worth of resends. */
export const AGENT_IDS_KEPT = 10_000;

/** Two FNV-1a passes (different offsets) folded into 52 bits: exact in a double. */
export function idHash(id: string): number {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 15);
  }
  return (a >>> 0) * 0x100000 + ((b >>> 0) & 0xfffff);
}

class HashRing {
  private hashes = new Float64Array(8);
  private n = 0;
  private next = 0;
  constructor(private readonly cap: number) {}

  has(h: number): boolean {
    const hs = this.hashes;
    for (let i = 0; i < this.n; i++) if (hs[i] === h) return true;
    return false;
  }

  add(h: number): void {
    if (this.n < this.cap) {
      if (this.n === this.hashes.length) {
        const grown = new Float64Array(Math.min(this.cap, this.hashes.length * 2));
        grown.set(this.hashes);
        this.hashes = grown;
      }
      this.hashes[this.n++] = h;
      return;
    }
    this.hashes[this.next] = h;
    this.next = (this.next + 1) % this.cap;
  }
}

/** Per session (clientId): the ids of its accepted `message` / `cancel` frames. */
export class ClientIdMemory {
  private readonly sessions = new Map<string, HashRing>();

  constructor(private readonly cap = CLIENT_IDS_KEPT) {}

  seen(clientId: string, id: string): boolean {
    return this.sessions.get(clientId)?.has(idHash(id)) ?? false;
  }

  remember(clientId: string, id: string): void {
    let ring = this.sessions.get(clientId);
    if (!ring) this.sessions.set(clientId, (ring = new HashRing(this.cap)));
    ring.add(idHash(id));
  }

  /** The session ended for good. */
  forget(clientId: string): void {
    this.sessions.delete(clientId);
  }

  get size(): number {
    return this.sessions.size;
  }
}

/** Per agent name: the ids of its accepted `send` / `broadcast` frames, for `ttlMs`. */
export class AgentIdMemory {
  private readonly names = new Map<string, Map<number, number>>();

  constructor(
    private readonly ttlMs: number,
    private readonly cap = AGENT_IDS_KEPT,
  ) {}

  seen(name: string, id: string, now = Date.now()): boolean {
    const until = this.names.get(name)?.get(idHash(id));
    return until !== undefined && until > now;
  }

  remember(name: string, id: string, now = Date.now()): void {
    let ids = this.names.get(name);
    if (!ids) this.names.set(name, (ids = new Map()));
    const h = idHash(id);
    ids.delete(h); // re-inserted at the young end
    ids.set(h, now + this.ttlMs);
    // Insertion order is age order: drop the expired and the over-bound from the old end.
    for (const [old, until] of ids) {
      if (ids.size <= this.cap && until > now) break;
      ids.delete(old);
    }
  }

  /** Names whose ids have all expired go (bounded memory when names come and go). */
  sweep(now = Date.now()): void {
    for (const [name, ids] of this.names) {
      for (const [h, until] of ids) {
        if (until > now) break;
        ids.delete(h);
      }
      if (ids.size === 0) this.names.delete(name);
    }
  }
}
