import { AgentSdkError } from './errors.ts';

/**
 * Frames the bridge has not yet taken, in the order they were first sent, bounded. Two kinds
 * share the bound (`outboxLimit`): frames sent while the agent was not connected (not yet
 * written), and, on a connection with §8 acknowledgements, frames written but not yet answered
 * `accepted` (a crash of the broker or the link may have lost them). After a redial all of them
 * go out again, in order; the bridge de-duplicates by id. When full it refuses (throws) instead
 * of dropping: the caller decides what losing a frame means, never the SDK.
 *
 * The texts sit in an array in sending order and a Map finds an id's place in it, rather than a
 * Map of id → text: with every reply held for a few ms and then deleted, the Map of texts made
 * V8 promote about one held text per frame to the old generation (~750 KB per scavenge at 8,000
 * replies/s, against ~100 KB this way) and run a major GC every second or so; in the echo bench
 * that was most of what acknowledgements cost the agent (docs/performance.md).
 */
export class Outbox {
  /** id → position of its text: `base` + index in `texts`. */
  private slots = new Map<string, number>();
  /** Texts in sending order; a settled one is undefined until the front moves past it. */
  private texts: (string | undefined)[] = [];
  /** Position of texts[0]. */
  private base = 0;
  /** Index in `texts` of the oldest text still held (everything before it is settled). */
  private head = 0;

  constructor(readonly limit: number) {}

  /** Keep a frame until it is accepted (or, without acks, until the next flush). */
  push(id: string, serialized: string): void {
    if (this.slots.has(id)) {
      throw new AgentSdkError('invalid_frame', `a frame with id "${id}" is still waiting for the bridge; ids must be unique`);
    }
    if (this.slots.size >= this.limit) {
      throw new AgentSdkError(
        'outbox_full',
        `the outbox already holds ${this.limit} frames not yet taken by the bridge (outboxLimit); the frame was not queued`,
      );
    }
    this.slots.set(id, this.base + this.texts.length);
    this.texts.push(serialized);
  }

  /** Whether one more frame fits. */
  get full(): boolean {
    return this.slots.size >= this.limit;
  }

  /** The bridge took (or refused) the frame with this id. */
  settle(id: string): boolean {
    const slot = this.slots.get(id);
    if (slot === undefined) return false;
    this.slots.delete(id);
    const texts = this.texts;
    texts[slot - this.base] = undefined;
    // `accepted`s come in sending order, so the front usually moves by one.
    let head = this.head;
    while (head < texts.length && texts[head] === undefined) head++;
    if (head === texts.length) {
      this.base += head;
      this.texts = [];
      this.head = 0;
    } else if (head >= 1024 && head * 2 >= texts.length) {
      // A long-held frame keeps the front back: drop the settled part once it is most of the array.
      this.texts = texts.slice(head);
      this.base += head;
      this.head = 0;
    } else this.head = head;
    return true;
  }

  /** Every held frame, oldest first; they stay held (until accepted). */
  all(): string[] {
    const out: string[] = [];
    for (let i = this.head; i < this.texts.length; i++) {
      const t = this.texts[i];
      if (t !== undefined) out.push(t);
    }
    return out;
  }

  /** Take every held frame, oldest first, leaving the outbox empty. */
  drain(): string[] {
    const out = this.all();
    this.slots = new Map();
    this.base += this.texts.length;
    this.texts = [];
    this.head = 0;
    return out;
  }

  get size(): number {
    return this.slots.size;
  }
}
