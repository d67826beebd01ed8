/**
 * Message ids (uuid v7) without a native call per id. `uuid`'s `v7()` asks
 * `crypto.getRandomValues` for 16 fresh bytes every time (a synchronous RandomBytesJob, ~1.9 µs),
 * and the broker makes two ids per round trip. Here the 16 bytes are sliced from a pool that one
 * `randomFillSync` refills every IDS_PER_FILL ids (~0.2 µs per id); every id still gets bytes of
 * its own from the same CSPRNG. Passing `random` makes `uuid` skip its monotonic state, so the
 * same state is kept here (uuid's updateV7State): ids from this process stay strictly increasing.
 */
import { randomFillSync } from 'node:crypto';
import { v7 } from 'uuid';

const ID_BYTES = 16;
export const IDS_PER_FILL = 256;

export class V7Ids {
  private readonly pool: Uint8Array;
  private offset: number;
  private msecs = -Infinity;
  private seq = 0;

  constructor(
    idsPerFill = IDS_PER_FILL,
    private readonly now: () => number = Date.now,
  ) {
    this.pool = new Uint8Array(ID_BYTES * idsPerFill);
    this.offset = this.pool.length; // filled on first use
  }

  next(): string {
    if (this.offset === this.pool.length) {
      randomFillSync(this.pool);
      this.offset = 0;
    }
    const random = this.pool.subarray(this.offset, this.offset + ID_BYTES);
    this.offset += ID_BYTES;
    const now = this.now();
    if (now > this.msecs) {
      // A new millisecond starts from a random 31-bit counter, as uuid does.
      this.seq = ((random[6]! & 0x7f) << 24) | (random[7]! << 16) | (random[8]! << 8) | random[9]!;
      this.msecs = now;
    } else {
      this.seq = (this.seq + 1) | 0;
      if (this.seq === 0) this.msecs++;
    }
    return v7({ random, msecs: this.msecs, seq: this.seq });
  }
}

const ids = new V7Ids();

/** A new uuid v7 for a message or client.message frame. */
export function newMessageId(): string {
  return ids.next();
}
