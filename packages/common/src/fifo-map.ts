/**
 * An insertion-ordered map for entries that come and go quickly: frames held until the bridge
 * answers (the agent SDK's outbox), client messages held until the agent acknowledges them (the
 * broker). Same semantics as a `Map` for these uses — `set` of a present key replaces its value
 * in place, iteration is oldest first — but the values live in an array and the `Map` only maps a
 * key to a position (a small integer).
 *
 * Why: on Node 20 (V8 11.3) a `Map` whose values are fresh heap objects set and deleted at a high
 * rate made V8 promote about every value stored since the last scavenge to the old generation,
 * deleted or not: ~900 KB per scavenge at 8,000 set/delete pairs a second with 350-byte strings,
 * against ~50 KB with the same keys mapped to numbers (the replica is in docs/performance.md). In
 * the agent SDK that was one major GC every second or so, and most of what acknowledgements cost
 * the agent in the echo benchmark.
 */
export class FifoMap<V> {
  /** key → position: `base` + index in `keys` / `vals`. */
  private slots = new Map<string, number>();
  /** Keys in insertion order; undefined once deleted (until the front moves past it). */
  private keys: (string | undefined)[] = [];
  private vals: (V | undefined)[] = [];
  /** Position of index 0. */
  private base = 0;
  /** Index of the oldest entry still present (everything before it is deleted). */
  private head = 0;

  get size(): number {
    return this.slots.size;
  }

  has(key: string): boolean {
    return this.slots.has(key);
  }

  get(key: string): V | undefined {
    const slot = this.slots.get(key);
    return slot === undefined ? undefined : this.vals[slot - this.base];
  }

  /** Append, or replace the value of a present key where it stands. */
  set(key: string, value: V): void {
    const slot = this.slots.get(key);
    if (slot !== undefined) {
      this.vals[slot - this.base] = value;
      return;
    }
    this.slots.set(key, this.base + this.keys.length);
    this.keys.push(key);
    this.vals.push(value);
  }

  delete(key: string): boolean {
    const slot = this.slots.get(key);
    if (slot === undefined) return false;
    this.slots.delete(key);
    const i = slot - this.base;
    this.keys[i] = undefined;
    this.vals[i] = undefined;
    this.advance();
    return true;
  }

  /** The oldest entry, taken out; undefined when empty. */
  shift(): [string, V] | undefined {
    if (this.slots.size === 0) return undefined;
    const i = this.head;
    const key = this.keys[i]!;
    const value = this.vals[i] as V;
    this.delete(key);
    return [key, value];
  }

  /** The entries, oldest first (a copy: deleting while going through it is safe). */
  entries(): [string, V][] {
    const out: [string, V][] = [];
    for (let i = this.head; i < this.keys.length; i++) {
      const key = this.keys[i];
      if (key !== undefined) out.push([key, this.vals[i] as V]);
    }
    return out;
  }

  /** The values, oldest first. */
  values(): V[] {
    const out: V[] = [];
    for (let i = this.head; i < this.keys.length; i++) if (this.keys[i] !== undefined) out.push(this.vals[i] as V);
    return out;
  }

  clear(): void {
    this.slots = new Map();
    this.base += this.keys.length;
    this.keys = [];
    this.vals = [];
    this.head = 0;
  }

  /** Move the front past deleted entries; drop the deleted front once it is most of the arrays. */
  private advance(): void {
    const keys = this.keys;
    let head = this.head;
    while (head < keys.length && keys[head] === undefined) head++;
    if (head === keys.length) {
      this.base += head;
      this.keys = [];
      this.vals = [];
      this.head = 0;
    } else if (head >= 1024 && head * 2 >= keys.length) {
      this.keys = keys.slice(head);
      this.vals = this.vals.slice(head);
      this.base += head;
      this.head = 0;
    } else this.head = head;
  }
}
