/**
 * Puts a session's seq'd frames on its socket in seq order, each once. In one process frames come
 * in order already and the gate only counts. In a cluster (PROTOCOL §10) they come from several
 * places — this broker's own appends (a command reply) and other brokers' appends (a pub/sub
 * notification on another connection) — which may overtake each other, and pub/sub may lose a
 * notification (it is at-most-once). The log is the truth: a frame that arrives ahead of a gap
 * waits briefly for the missing ones, then the gap is read from the log, so a lost notification
 * is repaired, never a lost frame.
 */
import type { OutItem } from './mailbox.ts';
import type { LoggedFrame } from './store/session-log.ts';

/** How long a frame waits for the ones before it before the gap is read from the log. */
export const GAP_WAIT_MS = 100;

export interface SeqGateDeps {
  emit(item: OutItem): void;
  /** The frames after `seq` from the log (the repair read); undefined when the log cannot say. */
  readAfter(seq: number): Promise<LoggedFrame[] | undefined>;
  onError(err: unknown): void;
  /** Frames the socket needs are gone from the log: close it so the client resumes (honestly). */
  onHole(): void;
}

export class SeqGate {
  /** The next seq the socket should get; 0 while the connection attaches (everything waits). */
  private next = 0;
  private readonly waiting = new Map<number, OutItem>();
  private timer: NodeJS.Timeout | undefined;
  private repairing = false;
  private closed = false;
  /** A repair read was asked for without a known gap (poke). */
  private forced = false;
  /** A frame at or beyond `next` arrived since the last takeHeard() (the sweeper's gap check). */
  private heard = false;

  constructor(private readonly deps: SeqGateDeps) {}

  /** The socket has everything through `lastSeq` (welcome + replay sent): release what waited. */
  open(lastSeq: number): void {
    this.next = lastSeq + 1;
    this.flush();
  }

  push(item: OutItem): void {
    if (this.closed) return;
    const seq = item.seq;
    if (seq === undefined) return this.deps.emit(item);
    if (seq >= this.next) this.heard = true;
    if (this.next === 0) {
      this.waiting.set(seq, item);
      return;
    }
    if (seq < this.next) return; // sent already (a replay or a repair read had it)
    if (seq === this.next && this.waiting.size === 0) {
      this.next = seq + 1;
      return this.deps.emit(item);
    }
    this.waiting.set(seq, item);
    this.flush();
  }

  /** The seq the socket is waiting for next (0 while the connection attaches). */
  get expected(): number {
    return this.next;
  }

  /**
   * Whether a frame at or beyond the expected seq arrived since the last call (and reset). A lost
   * notification before such a frame shows as a gap here, which the gate repairs itself; only a
   * session that heard nothing since can hold one unseen (cluster-sweeper.ts checkGaps).
   */
  takeHeard(): boolean {
    const heard = this.heard;
    this.heard = false;
    return heard;
  }

  /**
   * Notifications may have been lost (the bus reconnected): read whatever the log holds beyond
   * what the socket has, as if a gap had been seen.
   */
  poke(): void {
    if (this.closed || this.next === 0 || this.repairing) return;
    this.forced = true;
    if (!this.timer) this.repair();
  }

  close(): void {
    this.closed = true;
    this.waiting.clear();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private flush(): void {
    for (;;) {
      const item = this.waiting.get(this.next);
      if (!item) break;
      this.waiting.delete(this.next);
      this.next += 1;
      this.deps.emit(item);
    }
    for (const seq of this.waiting.keys()) if (seq < this.next) this.waiting.delete(seq);
    if (this.waiting.size > 0 && !this.timer && !this.repairing) {
      this.timer = setTimeout(() => this.repair(), GAP_WAIT_MS);
      this.timer.unref();
    }
  }

  /** The gap did not fill by itself: read it from the log. */
  private repair(): void {
    this.timer = undefined;
    if (this.closed || (this.waiting.size === 0 && !this.forced)) return;
    this.forced = false;
    this.repairing = true;
    const from = this.next - 1;
    this.deps
      .readAfter(from)
      .then((frames) => {
        this.repairing = false;
        if (this.closed) return;
        for (const f of frames ?? []) {
          if (f.seq < this.next || this.waiting.has(f.seq)) continue;
          this.waiting.set(f.seq, { payload: f.payload, body: f.body, kind: 'direct', type: f.type, seq: f.seq });
        }
        // Still a hole after reading the log: those frames are gone from it. Never skip them
        // silently: the client reconnects and its resume says whether it is complete.
        if (frames !== undefined && !this.waiting.has(this.next) && this.waiting.size > 0) {
          this.close();
          return this.deps.onHole();
        }
        this.flush();
      })
      .catch((err: unknown) => {
        this.repairing = false;
        this.deps.onError(err);
        this.flush();
      });
  }
}
