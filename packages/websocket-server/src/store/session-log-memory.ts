/**
 * The session log in this process: a ResumeBuffer per session (RESUME_BUFFER_FRAMES / _BYTES,
 * coalescing of run deltas) and one ResumeBudget over all of them (RESUME_BUDGET_BYTES, eviction
 * of the biggest buffers first). Every answer is synchronous: the hot path pays no Promise.
 */
import { mergeBodies } from '../coalescing.ts';
import { ResumeBuffer } from '../resume-buffer.ts';
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

export class MemorySessionLog implements SessionLog {
  private readonly streams = new Map<string, Stream>();
  readonly budget: ResumeBudget;

  constructor(
    private readonly limits: SessionLogLimits,
    /** Frames the budget evicted (agent_bridge_resume_evicted_frames_total). */
    onEvict?: (frames: number) => void,
  ) {
    this.budget = new ResumeBudget(limits.budgetBytes, onEvict);
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
