/**
 * §8 de-duplication: which frame ids were already accepted, so that a resend is answered
 * `accepted` again and delivered to nobody a second time. Bounded in memory:
 *
 * - per client session, its last CLIENT_IDS_KEPT ids (ring of 52-bit hashes with an index over it,
 *   12 KB at most: HashRing), for the session's life (forgotten when it expires);
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

/**
 * A session's last `cap` id hashes: a ring (insertion order, for eviction and the snapshot) and an
 * open-addressing index over it (linear probing; each slot holds a ring position + 1, 0 = empty),
 * so `has` is a probe or two instead of a scan of up to `cap` numbers — it runs for every client
 * message with an id (issue 12 item 5: the scan was 3 µs per round trip once a ring filled up).
 * The index has at least twice as many slots as the ring (load ≤ ½), 2 bytes each: 4 KB beside
 * the ring's 8 KB at 1,000 ids, both grown with the ring.
 */
export class HashRing {
  private hashes = new Float64Array(8);
  private index = new Uint16Array(16);
  private n = 0;
  private next = 0;
  constructor(private readonly cap: number) {
    if (cap > 0xfffe) throw new RangeError('a HashRing holds at most 65,534 ids');
  }

  has(h: number): boolean {
    const { index, hashes } = this;
    const mask = index.length - 1;
    for (let i = home(h, mask); ; i = (i + 1) & mask) {
      const s = index[i]!;
      if (s === 0) return false;
      if (hashes[s - 1] === h) return true;
    }
  }

  add(h: number): void {
    if (this.n < this.cap) {
      if (this.n === this.hashes.length) this.grow(Math.min(this.cap, this.hashes.length * 2));
      this.hashes[this.n] = h;
      this.insert(this.n++);
      return;
    }
    const at = this.next;
    this.remove(at);
    this.hashes[at] = h;
    this.insert(at);
    this.next = (at + 1) % this.cap;
  }

  /** Oldest first (the state snapshot). */
  list(): number[] {
    if (this.n < this.cap) return Array.from(this.hashes.subarray(0, this.n));
    return [...Array.from(this.hashes.subarray(this.next, this.n)), ...Array.from(this.hashes.subarray(0, this.next))];
  }

  private insert(pos: number): void {
    const { index } = this;
    const mask = index.length - 1;
    let i = home(this.hashes[pos]!, mask);
    while (index[i] !== 0) i = (i + 1) & mask;
    index[i] = pos + 1;
  }

  /** Take ring position `pos` out of the index (backward-shift deletion: no tombstones). */
  private remove(pos: number): void {
    const { index, hashes } = this;
    const mask = index.length - 1;
    let i = home(hashes[pos]!, mask);
    while (index[i] !== pos + 1) i = (i + 1) & mask;
    index[i] = 0;
    for (let j = (i + 1) & mask; index[j] !== 0; j = (j + 1) & mask) {
      const k = home(hashes[index[j]! - 1]!, mask);
      // The entry at j may move back to the hole at i unless its home lies cyclically in (i, j].
      const stays = i <= j ? i < k && k <= j : i < k || k <= j;
      if (stays) continue;
      index[i] = index[j]!;
      index[j] = 0;
      i = j;
    }
  }

  private grow(size: number): void {
    const hashes = new Float64Array(size);
    hashes.set(this.hashes.subarray(0, this.n));
    this.hashes = hashes;
    let slots = 16;
    while (slots < size * 2) slots *= 2;
    this.index = new Uint16Array(slots);
    for (let p = 0; p < this.n; p++) this.insert(p);
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

/**
 * One name's ids: hash → expiry in a Map for O(1) lookups, and the same in insertion order in a
 * ring, so the oldest go without iterating the Map (V8 walks over the deleted entries at the
 * front of a Map on every `keys().next()`: evicting that way costs µs per frame).
 */
class NameIds {
  readonly map = new Map<number, number>();
  private hashes = new Float64Array(64);
  private times = new Float64Array(64);
  private head = 0;
  private count = 0;

  constructor(private readonly cap: number) {}

  add(h: number, until: number, now: number): void {
    this.map.set(h, until);
    if (this.count === this.hashes.length && this.count < this.cap) this.grow();
    if (this.count === this.hashes.length) this.evictOldest();
    const at = (this.head + this.count) % this.hashes.length;
    this.hashes[at] = h;
    this.times[at] = until;
    this.count++;
    this.expire(now);
  }

  /** [hash, until] of every entry still owning its hash, oldest first (the state snapshot). */
  list(): [number, number][] {
    const out: [number, number][] = [];
    for (let i = 0; i < this.count; i++) {
      const at = (this.head + i) % this.hashes.length;
      if (this.map.get(this.hashes[at]!) === this.times[at]) out.push([this.hashes[at]!, this.times[at]!]);
    }
    return out;
  }

  /** Drop the expired from the old end. */
  expire(now: number): void {
    while (this.count > 0 && this.times[this.head]! <= now) this.evictOldest();
  }

  private evictOldest(): void {
    const h = this.hashes[this.head]!;
    // A later add of the same id moved its expiry on: that newer slot owns the entry.
    if (this.map.get(h) === this.times[this.head]) this.map.delete(h);
    this.head = (this.head + 1) % this.hashes.length;
    this.count--;
  }

  private grow(): void {
    const size = Math.min(this.cap, this.hashes.length * 2);
    const hashes = new Float64Array(size);
    const times = new Float64Array(size);
    for (let i = 0; i < this.count; i++) {
      const from = (this.head + i) % this.hashes.length;
      hashes[i] = this.hashes[from]!;
      times[i] = this.times[from]!;
    }
    this.hashes = hashes;
    this.times = times;
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
    const until = this.names.get(name)?.map.get(idHash(id));
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
      if (ids.map.size === 0) this.names.delete(name);
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
      if (ids.map.size > 0) this.names.set(name, ids);
    }
  }
}
