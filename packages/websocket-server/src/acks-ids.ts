/**
 * §8 de-duplication: which frame ids were already accepted, so that a resend is answered
 * `accepted` again and delivered to nobody a second time. Bounded in memory:
 *
 * - per client session, its last CLIENT_IDS_KEPT ids (ring of 52-bit hashes with an index over it,
 *   12 KB at most: HashRing), for the session's life (forgotten when it expires);
 * - per agent name, ids of the last SESSION_TTL_MS, at most AGENT_IDS_KEPT (a ring of hash and
 *   expiry with an index over it: NameIds, ~220 KB at most per name; an agent sends far more often,
 *   so lookups must be O(1)).
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

/**
 * An open-addressing index over the positions of a ring of id hashes (linear probing; each slot
 * holds a ring position + 1, 0 = empty), so finding a hash is a probe or two instead of a scan or
 * a Map lookup keyed by a double. The ring (a Float64Array of hashes) is its owner's; the index
 * has at least twice as many slots as the ring has positions (load ≤ ½), 2 bytes each.
 */
class RingIndex {
  readonly slots: Uint16Array;

  constructor(ringSize: number) {
    if (ringSize > 0xfffe) throw new RangeError('a ring of ids holds at most 65,534');
    let n = 16;
    while (n < ringSize * 2) n *= 2;
    this.slots = new Uint16Array(n);
  }

  /** The ring position holding `h`, or -1. */
  find(h: number, hashes: Float64Array): number {
    const { slots } = this;
    const mask = slots.length - 1;
    for (let i = home(h, mask); ; i = (i + 1) & mask) {
      const s = slots[i]!;
      if (s === 0) return -1;
      if (hashes[s - 1] === h) return s - 1;
    }
  }

  insert(pos: number, hashes: Float64Array): void {
    const { slots } = this;
    const mask = slots.length - 1;
    let i = home(hashes[pos]!, mask);
    while (slots[i] !== 0) i = (i + 1) & mask;
    slots[i] = pos + 1;
  }

  /** Take ring position `pos` out (backward-shift deletion: no tombstones). */
  remove(pos: number, hashes: Float64Array): void {
    const { slots } = this;
    const mask = slots.length - 1;
    let i = home(hashes[pos]!, mask);
    while (slots[i] !== pos + 1) i = (i + 1) & mask;
    slots[i] = 0;
    for (let j = (i + 1) & mask; slots[j] !== 0; j = (j + 1) & mask) {
      const k = home(hashes[slots[j]! - 1]!, mask);
      // The entry at j may move back to the hole at i unless its home lies cyclically in (i, j].
      const stays = i <= j ? i < k && k <= j : i < k || k <= j;
      if (stays) continue;
      slots[i] = slots[j]!;
      slots[j] = 0;
      i = j;
    }
  }
}

/**
 * A session's last `cap` id hashes: a ring (insertion order, for eviction and the snapshot) and a
 * RingIndex over it, so `has` is a probe or two instead of a scan of up to `cap` numbers — it runs
 * for every client message with an id (issue 12 item 5: the scan was 3 µs per round trip once a
 * ring filled up). 4 KB of index beside the ring's 8 KB at 1,000 ids, both grown with the ring.
 */
export class HashRing {
  private hashes = new Float64Array(8);
  private index = new RingIndex(8);
  private n = 0;
  private next = 0;
  constructor(private readonly cap: number) {
    if (cap > 0xfffe) throw new RangeError('a HashRing holds at most 65,534 ids');
  }

  has(h: number): boolean {
    return this.index.find(h, this.hashes) >= 0;
  }

  add(h: number): void {
    if (this.n < this.cap) {
      if (this.n === this.hashes.length) this.grow(Math.min(this.cap, this.hashes.length * 2));
      this.hashes[this.n] = h;
      this.index.insert(this.n++, this.hashes);
      return;
    }
    const at = this.next;
    this.index.remove(at, this.hashes);
    this.hashes[at] = h;
    this.index.insert(at, this.hashes);
    this.next = (at + 1) % this.cap;
  }

  /** Oldest first (the state snapshot). */
  list(): number[] {
    if (this.n < this.cap) return Array.from(this.hashes.subarray(0, this.n));
    return [...Array.from(this.hashes.subarray(this.next, this.n)), ...Array.from(this.hashes.subarray(0, this.next))];
  }

  private grow(size: number): void {
    const hashes = new Float64Array(size);
    hashes.set(this.hashes.subarray(0, this.n));
    this.hashes = hashes;
    this.index = new RingIndex(size);
    for (let p = 0; p < this.n; p++) this.index.insert(p, hashes);
  }
}

/**
 * The index slot a hash starts probing at (its low bits: both halves of idHash are mixed). `h` is
 * a 52-bit integer held in a double: `&` truncates it to its low 32 bits (ToInt32), the same bits
 * `% 0x100000` kept, without the floating-point remainder that made a probe cost ~75 ns (every
 * client message with an id probes twice: the duplicate check and the record).
 */
function home(h: number, mask: number): number {
  return h & mask;
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

  /** Every session's id hashes, oldest first (the state snapshot: a restart keeps de-duplicating). */
  snapshot(): [string, number[]][] {
    return [...this.sessions].map(([clientId, ring]) => [clientId, ring.list()]);
  }

  restore(entries: readonly (readonly [string, readonly number[]])[]): void {
    for (const [clientId, hashes] of entries) {
      const ring = new HashRing(this.cap);
      for (const h of hashes) ring.add(h);
      this.sessions.set(clientId, ring);
    }
  }
}

/** `times` of a ring position whose hash was added again later (the newer position owns it). */
const MOVED = -1;

/**
 * One name's ids: a ring of (hash, expiry) in insertion order, so the oldest and the expired go
 * from one end, and a RingIndex over it for the lookups (a Map keyed by 52-bit doubles cost
 * ~290 ns per agent frame for the check and the record; this is a probe or two). An id added
 * again moves its expiry on: its older position is marked MOVED and leaves the index.
 */
class NameIds {
  private hashes: Float64Array;
  private times: Float64Array;
  private index: RingIndex;
  private head = 0;
  private count = 0;
  /** Positions in the index (ids held). */
  size = 0;

  constructor(private readonly cap: number) {
    if (!(cap >= 1 && cap <= 0xfffe)) throw new RangeError('a name keeps 1 to 65,534 ids');
    // Grown by doubling up to the cap (a name that sends little holds little).
    const first = Math.min(64, cap);
    this.hashes = new Float64Array(first);
    this.times = new Float64Array(first);
    this.index = new RingIndex(first);
  }

  /** Expiry of `h`, or undefined. */
  until(h: number): number | undefined {
    const at = this.index.find(h, this.hashes);
    return at < 0 ? undefined : this.times[at];
  }

  add(h: number, until: number, now: number): void {
    const had = this.index.find(h, this.hashes);
    if (had >= 0) {
      this.index.remove(had, this.hashes);
      this.times[had] = MOVED;
      this.size--;
    }
    if (this.count === this.hashes.length && this.count < this.cap) this.grow();
    if (this.count === this.hashes.length) this.evictOldest();
    const at = (this.head + this.count) % this.hashes.length;
    this.hashes[at] = h;
    this.times[at] = until;
    this.index.insert(at, this.hashes);
    this.count++;
    this.size++;
    this.expire(now);
  }

  /** [hash, until] of every id held, oldest first (the state snapshot). */
  list(): [number, number][] {
    const out: [number, number][] = [];
    for (let i = 0; i < this.count; i++) {
      const at = (this.head + i) % this.hashes.length;
      if (this.times[at] !== MOVED) out.push([this.hashes[at]!, this.times[at]!]);
    }
    return out;
  }

  /** Drop the expired (and moved) from the old end. */
  expire(now: number): void {
    while (this.count > 0 && this.times[this.head]! <= now) this.evictOldest();
  }

  private evictOldest(): void {
    if (this.times[this.head] !== MOVED) {
      this.index.remove(this.head, this.hashes);
      this.size--;
    }
    this.head = (this.head + 1) % this.hashes.length;
    this.count--;
  }

  private grow(): void {
    const size = Math.min(this.cap, this.hashes.length * 2);
    const hashes = new Float64Array(size);
    const times = new Float64Array(size);
    const index = new RingIndex(size);
    for (let i = 0; i < this.count; i++) {
      const from = (this.head + i) % this.hashes.length;
      hashes[i] = this.hashes[from]!;
      times[i] = this.times[from]!;
      if (times[i] !== MOVED) index.insert(i, hashes);
    }
    this.hashes = hashes;
    this.times = times;
    this.index = index;
    this.head = 0;
  }
}

/** Per agent name: the ids of its accepted `send` / `broadcast` frames, for `ttlMs`. */
export class AgentIdMemory {
  private readonly names = new Map<string, NameIds>();

  constructor(
    private readonly ttlMs: number,
    private readonly cap = AGENT_IDS_KEPT,
  ) {}

  seen(name: string, id: string, now = Date.now()): boolean {
    const until = this.names.get(name)?.until(idHash(id));
    return until !== undefined && until > now;
  }

  remember(name: string, id: string, now = Date.now()): void {
    let ids = this.names.get(name);
    if (!ids) this.names.set(name, (ids = new NameIds(this.cap)));
    ids.add(idHash(id), now + this.ttlMs, now);
  }

  /** Names whose ids have all expired go (bounded memory when names come and go). */
  sweep(now = Date.now()): void {
    for (const [name, ids] of this.names) {
      ids.expire(now);
      if (ids.size === 0) this.names.delete(name);
    }
  }

  /** Every name's unexpired [hash, until], oldest first (the state snapshot). */
  snapshot(): [string, [number, number][]][] {
    return [...this.names].map(([name, ids]) => [name, ids.list()]);
  }

  /** Entries already expired at `now` are left out. */
  restore(entries: readonly (readonly [string, readonly (readonly [number, number])[]])[], now = Date.now()): void {
    for (const [name, list] of entries) {
      const ids = new NameIds(this.cap);
      for (const [h, until] of list) if (until > now) ids.add(h, until, now);
      if (ids.size > 0) this.names.set(name, ids);
    }
  }
}
