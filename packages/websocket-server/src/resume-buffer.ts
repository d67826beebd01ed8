/**
 * The seq'd frames a session sent, kept so that a reconnect with `lastSeq=N` can get every frame
 * with seq > N. Bounded by count and bytes; the oldest frames go first. `goneThrough` remembers
 * the highest seq no longer held (evicted, acked or cleared), so a resume that needs one of them
 * is refused instead of being answered with a partial replay.
 */
export interface BufferedFrame {
  seq: number;
  /** Frame type, for metrics when replayed. */
  type: string;
  payload: string;
  bytes: number;
}

export class ResumeBuffer {
  private frames: BufferedFrame[] = [];
  private head = 0;
  private bytes = 0;
  private gone = 0;

  constructor(
    private readonly maxFrames: number,
    private readonly maxBytes: number,
  ) {}

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

  push(seq: number, type: string, payload: string): void {
    const bytes = Buffer.byteLength(payload);
    this.frames.push({ seq, type, payload, bytes });
    this.bytes += bytes;
    while (this.size > 0 && (this.size > this.maxFrames || this.bytes > this.maxBytes)) this.dropHead();
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
    this.frames = [];
    this.head = 0;
    this.bytes = 0;
    if (seq > this.gone) this.gone = seq;
  }

  private dropHead(): void {
    const f = this.frames[this.head]!;
    this.frames[this.head] = undefined as unknown as BufferedFrame;
    this.head++;
    this.bytes -= f.bytes;
    if (f.seq > this.gone) this.gone = f.seq;
    // Compact now and then so the array does not grow for ever.
    if (this.head > 1024 && this.head * 2 > this.frames.length) {
      this.frames = this.frames.slice(this.head);
      this.head = 0;
    }
  }
}
