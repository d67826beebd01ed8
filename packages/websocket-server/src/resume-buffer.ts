/**
 * The seq'd frames a session sent, kept so that a reconnect with `lastSeq=N` can get every frame
 * with seq > N. Bounded by count and bytes; the oldest frames go first. `goneThrough` remembers
 * the highest seq no longer held (evicted, acked or cleared), so a resume that needs one of them
 * is refused instead of being answered with a partial replay.
 *
 * A frame is either text of its own (system frames) or a reference to a SharedBody (a `message`
 * whose body many sessions share: a broadcast or a send to a list) plus this session's seq, so a
 * broadcast to N sessions is held once, not N times (issue 9). Every frame is also charged to the
 * process-wide ResumeBudget, which may evict from here when all buffers together hold too much.
 *
 * With `merge` (PROTOCOL §9 coalescing), a delta that continues the stream of the buffer's last
 * frame, adjacent in seq, replaces that frame with the merged one: a long reply to a client that
 * is away costs a few frames, not one per token. The last frame's body is released and the merged
 * body charged in its place, like any other body (shared when other sessions merged the same pair).
 */
import type { DeltaPart } from './coalescing.ts';
import { FRAME_OVERHEAD_BYTES, type Evictable, type ResumeBudget } from './resume-budget.ts';

/** A message body held once per process and rendered per session with its seq. */
export interface SharedBody {
  /** UTF-8 bytes of the body (what holding it costs, once). */
  readonly bodyBytes: number;
  /** Resume buffers holding a reference; the body's bytes are charged while it is above 0. */
  refs: number;
  /** The whole frame for this seq. */
  render(seq: number): string;
  /** Byte length of the whole frame for this seq (the per-session measure). */
  frameBytes(seq: number): number;
  /** Set on a delta event's body: it may be folded into the frame before it (coalescing.ts). */
  readonly delta?: DeltaPart | undefined;
  /** performance.now() when the broker read the frame behind it (delivery latency; metrics.ts). */
  readonly receivedAt?: number | undefined;
}

/**
 * Folds `next` (at `nextSeq`) into `prev` (at `prevSeq`) when the two may be one frame; returns
 * the body standing for both, else undefined.
 */
export type MergeBodies = (prev: SharedBody, prevSeq: number, next: SharedBody, nextSeq: number) => SharedBody | undefined;

export interface BufferedFrame {
  seq: number;
  /** Frame type, for metrics when replayed. */
  type: string;
  /** Own text (system frames), or undefined for a shared body. */
  payload?: string;
  body?: SharedBody;
  /** Bytes of the whole frame (counted against RESUME_BUFFER_BYTES). */
  bytes: number;
}

/** The text of a held frame. */
export function frameText(f: BufferedFrame): string {
  return f.payload ?? f.body!.render(f.seq);
}

export class ResumeBuffer implements Evictable {
  private frames: BufferedFrame[] = [];
  private head = 0;
  private bytes = 0;
  private gone = 0;

  constructor(
    private readonly maxFrames: number,
    private readonly maxBytes: number,
    private readonly budget?: ResumeBudget,
    private readonly merge?: MergeBodies,
  ) {
    budget?.register(this);
  }

  get size(): number {
    return this.frames.length - this.head;
  }

  get byteSize(): number {
    return this.bytes;
  }

  /** Highest seq that can no longer be replayed. */
  get goneThrough(): number {
    return this.gone;
  }

  /** Keep a frame of its own text. */
  push(seq: number, type: string, payload: string): void {
    const bytes = Buffer.byteLength(payload);
    this.budget?.charge(bytes + FRAME_OVERHEAD_BYTES);
    this.add({ seq, type, payload, bytes });
  }

  /** Keep a reference to a shared body (charged to the budget once, however many hold it). */
  pushShared(seq: number, type: string, body: SharedBody): void {
    const tail = this.size > 0 ? this.frames[this.frames.length - 1]! : undefined;
    const merged = tail?.body && body.delta && this.merge?.(tail.body, tail.seq, body, seq);
    if (merged) {
      // The tail goes (its body released unless others hold it), the merged frame takes its slot.
      this.frames.pop();
      this.bytes -= tail!.bytes;
      this.release(tail!);
      body = merged;
    }
    if (body.refs++ === 0) this.budget?.charge(body.bodyBytes);
    this.budget?.charge(FRAME_OVERHEAD_BYTES);
    this.add({ seq, type, body, bytes: body.frameBytes(seq) });
  }

  /** The client has every frame up to `seq`: free them. */
  ack(seq: number): void {
    while (this.size > 0 && this.frames[this.head]!.seq <= seq) this.dropHead();
    if (seq > this.gone) this.gone = seq;
  }

  /** True when every frame after `lastSeq` is still held. */
  canResumeAfter(lastSeq: number): boolean {
    return lastSeq >= this.gone;
  }

  /** Frames with seq > lastSeq, oldest first. */
  after(lastSeq: number): BufferedFrame[] {
    const out: BufferedFrame[] = [];
    for (let i = this.head; i < this.frames.length; i++) if (this.frames[i]!.seq > lastSeq) out.push(this.frames[i]!);
    return out;
  }

  /** Forget everything through `seq` (a fresh start of the session's stream). */
  clear(seq: number): void {
    for (let i = this.head; i < this.frames.length; i++) this.release(this.frames[i]!);
    this.frames = [];
    this.head = 0;
    this.bytes = 0;
    if (seq > this.gone) this.gone = seq;
  }

  /** The session is gone for good: release everything and leave the budget. */
  dispose(): void {
    this.clear(this.gone);
    this.budget?.unregister(this);
  }

  /** For the budget: drop the oldest frame (a later resume from before it is refused). */
  evictOldest(): void {
    if (this.size > 0) this.dropHead();
  }

  private add(f: BufferedFrame): void {
    this.frames.push(f);
    this.bytes += f.bytes;
    while (this.size > 0 && (this.size > this.maxFrames || this.bytes > this.maxBytes)) this.dropHead();
    // After the per-session bounds: the global budget may evict from any buffer, this one included.
    this.budget?.settle();
  }

  private release(f: BufferedFrame): void {
    if (!this.budget) {
      if (f.body) f.body.refs--;
      return;
    }
    this.budget.release(FRAME_OVERHEAD_BYTES);
    if (f.body) {
      if (--f.body.refs === 0) this.budget.release(f.body.bodyBytes);
    } else {
      this.budget.release(f.bytes);
    }
  }

  private dropHead(): void {
    const f = this.frames[this.head]!;
    this.frames[this.head] = undefined as unknown as BufferedFrame;
    this.head++;
    this.bytes -= f.bytes;
    this.release(f);
    if (f.seq > this.gone) this.gone = f.seq;
    // Compact now and then so the array does not grow for ever.
    if (this.head > 1024 && this.head * 2 > this.frames.length) {
      this.frames = this.frames.slice(this.head);
      this.head = 0;
    }
  }
}
