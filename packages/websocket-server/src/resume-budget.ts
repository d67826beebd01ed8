/**
 * RESUME_BUDGET_BYTES: one bound on what all sessions' resume buffers hold together (issue 9:
 * thousands of resumable sessions each allowed RESUME_BUFFER_BYTES add up to far more memory than
 * the machine has). Every buffer charges what it really keeps:
 *   - a frame of its own (a system frame): its UTF-8 bytes + FRAME_OVERHEAD_BYTES;
 *   - a reference to a shared message body (a broadcast, or a send to a list): FRAME_OVERHEAD_BYTES,
 *     and the body's bytes once per process, while at least one buffer references it.
 *
 * At the budget the broker evicts the oldest frames of the session whose buffer is the biggest
 * (its frames counted in full, shared or not), levelling the biggest down until the total is
 * under 90 % of the budget. An evicted frame is gone like any other: that session's later resume
 * from before it is answered resumed:false, never a partial replay. The biggest buffers belong to
 * whoever made the broker keep the most for them, so one client flooding its own session (an echo
 * agent answering 64 KiB frames) loses its own history first, not its neighbours'.
 */
export interface Evictable {
  /** Bytes of the frames this buffer holds, each counted in full (the per-session measure). */
  readonly byteSize: number;
  /** Drop the oldest frame (releasing its charge). */
  evictOldest(): void;
}

/**
 * What one held frame costs beyond its text: the frame object, its slot in the buffer's array,
 * the seq. Counting it keeps millions of tiny frames (system events to every session) honest.
 */
export const FRAME_OVERHEAD_BYTES = 64;

/** Eviction runs down to this share of the budget, so it (a sort of all buffers) is rare. */
const LOW_WATER = 0.9;

export class ResumeBudget {
  private total = 0;
  private readonly buffers = new Set<Evictable>();
  private evicting = false;

  constructor(
    readonly limit: number,
    private readonly onEvict: (frames: number) => void = () => undefined,
  ) {}

  /** Bytes charged right now. */
  get bytes(): number {
    return this.total;
  }

  register(b: Evictable): void {
    this.buffers.add(b);
  }

  unregister(b: Evictable): void {
    this.buffers.delete(b);
  }

  charge(bytes: number): void {
    this.total += bytes;
  }

  release(bytes: number): void {
    this.total -= bytes;
  }

  /** Called after every push: evict if the budget is exceeded. */
  settle(): void {
    if (this.total <= this.limit || this.evicting) return;
    this.evicting = true;
    let evicted = 0;
    try {
      const target = Math.floor(this.limit * LOW_WATER);
      const order = [...this.buffers].filter((b) => b.byteSize > 0).sort((a, b) => b.byteSize - a.byteSize);
      // Level the biggest buffers down, step by step, to the size of the next one (0 after the last).
      for (let k = 0; k < order.length && this.total > target; k++) {
        const next = order[k + 1];
        // Equal sizes: nothing to level at this step (the degenerate case of many equal sessions).
        if (next && next.byteSize >= order[k]!.byteSize) continue;
        const level = next?.byteSize ?? 0;
        // One frame from each in turn, so equal buffers lose equally (not the first one everything).
        for (let progress = true; progress && this.total > target; ) {
          progress = false;
          for (let j = 0; j <= k && this.total > target; j++) {
            const b = order[j]!;
            if (b.byteSize > level) {
              b.evictOldest();
              evicted++;
              progress = true;
            }
          }
        }
      }
    } finally {
      this.evicting = false;
      if (evicted > 0) this.onEvict(evicted);
    }
  }
}
