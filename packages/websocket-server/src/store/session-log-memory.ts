/**
 * The session log in this process: a ResumeBuffer per session (RESUME_BUFFER_FRAMES / _BYTES,
 * coalescing of run deltas) and one ResumeBudget over all of them (RESUME_BUDGET_BYTES, eviction
 * of the biggest buffers first). Every answer is synchronous: the hot path pays no Promise.
 */
import { mergeBodies } from '../coalescing.ts';
import { MESSAGE_SEQ_PREFIX, SeqMessageTemplate } from '../frames-out.ts';
import { frameText, ResumeBuffer, type SharedBody } from '../resume-buffer.ts';
import { ResumeBudget } from '../resume-budget.ts';
import type { LogEntry, LoggedFrame, Replay, SessionLog } from './session-log.ts';

export interface SessionLogLimits {
  /** RESUME_BUFFER_FRAMES / RESUME_BUFFER_BYTES, per session. */
  frames: number;
  bytes: number;
  /** RESUME_BUDGET_BYTES, all sessions together. */
  budgetBytes: number;
  /** MAX_MESSAGE_BYTES: a coalesced frame never exceeds it. */
  maxMessageBytes: number;
}

interface Stream {
  lastSeq: number;
  buffer: ResumeBuffer;
}

/**
 * A held frame in a snapshot: [seq, type, text] for a frame of its own text, [seq, type, n] for a
 * `message` whose body is `bodies[n]` of the LogSnapshot (held once however many sessions have it).
 */
export type FrameSnapshot = [seq: number, type: string, textOrBody: string | number];

/** One session's stream: its counter, what can no longer be replayed, and the frames held. */
export interface StreamSnapshot {
  clientId: string;
  lastSeq: number;
  /** Highest seq no longer held: a resume from before it is refused after the restore too. */
  goneThrough: number;
  frames: FrameSnapshot[];
}

/** Every stream, with the shared message bodies (the frame text after `{"type":"message","seq":N,`). */
export interface LogSnapshot {
  bodies: string[];
  streams: StreamSnapshot[];
}

/**
 * A shared message body read back from a snapshot: renders exactly as the SeqMessageTemplate it
 * was written from (its text after the seq prefix), and stays shared between the sessions holding it.
 */
export class SnapshotBody implements SharedBody {
  readonly bodyBytes: number;
  refs = 0;

  constructor(readonly suffix: string) {
    this.bodyBytes = Buffer.byteLength(suffix);
  }

  render(seq: number): string {
    return `${MESSAGE_SEQ_PREFIX}${seq},${this.suffix}`;
  }

  frameBytes(seq: number): number {
    return MESSAGE_SEQ_PREFIX.length + String(seq).length + 1 + this.bodyBytes;
  }
}

/** The text after the seq prefix, for a body that renders as prefix + seq + "," + a fixed rest. */
function suffixOf(body: SharedBody, seq: number): string | undefined {
  if (body instanceof SnapshotBody) return body.suffix;
  if (!(body instanceof SeqMessageTemplate)) return undefined; // a merged DeltaBody names its seqs: own text
  return body.render(seq).slice(MESSAGE_SEQ_PREFIX.length + String(seq).length + 1);
}

export class MemorySessionLog implements SessionLog {
  private readonly streams = new Map<string, Stream>();
  readonly budget: ResumeBudget;

  private evicted: (frames: number) => void;

  constructor(
    private readonly limits: SessionLogLimits,
    /** Frames the budget evicted (agent_bridge_resume_evicted_frames_total). */
    onEvict: (frames: number) => void = () => undefined,
  ) {
    this.evicted = onEvict;
    this.budget = new ResumeBudget(limits.budgetBytes, (n) => this.evicted(n));
  }

  /**
   * Who hears of evictions from now on: for a log made before the broker's metrics (one restored
   * from a snapshot by main.ts and passed in through BrokerOptions.stores).
   */
  onEvicted(listener: (frames: number) => void): void {
    this.evicted = listener;
  }

  append(clientId: string, entry: LogEntry): LoggedFrame {
    const s = this.stream(clientId);
    const seq = ++s.lastSeq;
    if ('body' in entry) {
      s.buffer.pushShared(seq, entry.type, entry.body);
      return { seq, type: entry.type, body: entry.body };
    }
    const payload = entry.render(seq);
    s.buffer.push(seq, entry.type, payload);
    return { seq, type: entry.type, payload };
  }

  after(clientId: string, lastSeq: number): Replay {
    const s = this.streams.get(clientId);
    if (!s) return { complete: lastSeq === 0, frames: [] };
    if (lastSeq > s.lastSeq || !s.buffer.canResumeAfter(lastSeq)) return { complete: false, frames: [] };
    return { complete: true, frames: s.buffer.after(lastSeq) };
  }

  ack(clientId: string, seq: number): void {
    const s = this.streams.get(clientId);
    s?.buffer.ack(Math.min(seq, s.lastSeq));
  }

  lastSeq(clientId: string): number {
    return this.streams.get(clientId)?.lastSeq ?? 0;
  }

  reset(clientId: string): void {
    const s = this.streams.get(clientId);
    s?.buffer.clear(s.lastSeq);
  }

  drop(clientId: string): void {
    this.streams.get(clientId)?.buffer.dispose();
    this.streams.delete(clientId);
  }

  bytes(): number {
    return this.budget.bytes;
  }

  /**
   * Every stream, for snapshot.ts: a shared body once (the first time a buffer references it),
   * any other frame as its rendered text. The streams are left as they are.
   */
  snapshot(keep: (clientId: string) => boolean = () => true): LogSnapshot {
    const bodies: string[] = [];
    const index = new Map<SharedBody, number>();
    const streams: StreamSnapshot[] = [];
    for (const [clientId, s] of this.streams) {
      if (!keep(clientId)) continue;
      const frames: FrameSnapshot[] = [];
      for (const f of s.buffer.after(s.buffer.goneThrough)) {
        let n = f.body ? index.get(f.body) : undefined;
        if (f.body && n === undefined) {
          const suffix = suffixOf(f.body, f.seq);
          if (suffix !== undefined) {
            n = bodies.push(suffix) - 1;
            index.set(f.body, n);
          }
        }
        frames.push([f.seq, f.type, n ?? frameText(f)]);
      }
      streams.push({ clientId, lastSeq: s.lastSeq, goneThrough: s.buffer.goneThrough, frames });
    }
    return { bodies, streams };
  }

  /**
   * Put back the streams of a snapshot (into an empty log). The per-session bounds and the budget
   * apply as to any frame: with smaller settings than before, the oldest frames go and a resume
   * that needed them is refused. Throws on an inconsistent stream (seqs out of order, a body
   * index out of range): the caller then rejects the whole snapshot.
   */
  restore(snap: LogSnapshot): void {
    const bodies = snap.bodies.map((b) => new SnapshotBody(b));
    for (const st of snap.streams) {
      if (this.streams.has(st.clientId)) throw new Error(`stream ${st.clientId} twice`);
      if (st.goneThrough > st.lastSeq) throw new Error(`stream ${st.clientId}: goneThrough beyond lastSeq`);
      let prev = st.goneThrough;
      for (const [seq, , ref] of st.frames) {
        if (seq <= prev || seq > st.lastSeq) throw new Error(`stream ${st.clientId}: seq ${seq} out of order`);
        if (typeof ref === 'number' && bodies[ref] === undefined) throw new Error(`stream ${st.clientId}: no body ${ref}`);
        prev = seq;
      }
      const s = this.stream(st.clientId);
      s.lastSeq = st.lastSeq;
      s.buffer.ack(st.goneThrough); // an empty buffer: only remembers what is gone
      for (const [seq, type, ref] of st.frames) {
        if (typeof ref === 'number') s.buffer.pushShared(seq, type, bodies[ref]!);
        else s.buffer.push(seq, type, ref);
      }
    }
  }

  private stream(clientId: string): Stream {
    let s = this.streams.get(clientId);
    if (!s) {
      const { frames, bytes, maxMessageBytes } = this.limits;
      const buffer = new ResumeBuffer(frames, bytes, this.budget, (prev, prevSeq, next, nextSeq) =>
        mergeBodies(prev, prevSeq, next, nextSeq, maxMessageBytes),
      );
      this.streams.set(clientId, (s = { lastSeq: 0, buffer }));
    }
    return s;
  }
}
