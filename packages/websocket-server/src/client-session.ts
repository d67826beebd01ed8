/**
 * What the broker knows about one clientId, from its first connection until it expires: the seq
 * counter, the resume buffer, the wallet address, the rate limiter and the expiry timer. It
 * outlives sockets; `conn` is the current socket, if any. Frames delivered while the session has
 * no socket still get a seq and wait in the resume buffer.
 */
import { ResumeBuffer, type BufferedFrame, type SharedBody } from './resume-buffer.ts';
import type { ResumeBudget } from './resume-budget.ts';
import { ClientRateLimiter } from './rate-limiter.ts';
import type { FrameKind } from './mailbox.ts';
import type { ClientConnection } from './client-connection.ts';
import { mergeBodies } from './coalescing.ts';
import { RunAgents } from './runs.ts';

export interface SessionLimits {
  resumeFrames: number;
  resumeBytes: number;
  ratePerSec: number;
  rateBurst: number;
  /** MAX_MESSAGE_BYTES: a coalesced frame in the resume buffer never exceeds it. */
  maxMessageBytes: number;
}

export interface ResumeDecision {
  resumed: boolean;
  replay: BufferedFrame[];
}

export class ClientSession {
  lastSeq = 0;
  address: string | null = null;
  conn: ClientConnection | undefined;
  ttlTimer: NodeJS.Timeout | undefined;
  readonly resume: ResumeBuffer;
  readonly rate: ClientRateLimiter;
  /** Which agent name streams each run to this client, for its `cancel` (PROTOCOL §9). */
  readonly runs = new RunAgents();

  constructor(
    readonly clientId: string,
    limits: SessionLimits,
    budget?: ResumeBudget,
    /** The browser's IP as the web server reported it (X-Client-Ip) at creation; counted per IP. */
    readonly ip?: string,
  ) {
    this.resume = new ResumeBuffer(limits.resumeFrames, limits.resumeBytes, budget, (prev, prevSeq, next, nextSeq) =>
      mergeBodies(prev, prevSeq, next, nextSeq, limits.maxMessageBytes),
    );
    this.rate = new ClientRateLimiter(limits.ratePerSec, limits.rateBurst);
  }

  /** Give the next seq to a frame, keep it for resume, and hand it to the socket if there is one. */
  deliver(kind: FrameKind, type: string, build: (seq: number) => string): number {
    const seq = ++this.lastSeq;
    const payload = build(seq);
    this.resume.push(seq, type, payload);
    this.conn?.push({ payload, kind, type, seq });
    return seq;
  }

  /**
   * As deliver(), for a message body shared by many sessions: the resume buffer and the mailbox
   * keep a reference and this session's seq; the text is rendered only when it goes to the socket.
   */
  deliverShared(kind: FrameKind, type: string, body: SharedBody): number {
    const seq = ++this.lastSeq;
    this.resume.pushShared(seq, type, body);
    this.conn?.push({ body, kind, type, seq });
    return seq;
  }

  /** welcome / error: no seq, not kept, lost when there is no socket. */
  sendUnsequenced(type: string, payload: string): void {
    this.conn?.push({ payload, kind: 'direct', type });
  }

  ack(seq: number): void {
    this.resume.ack(Math.min(seq, this.lastSeq));
  }

  /**
   * Rule 3 of the resume contract: resume only when every frame after `lastSeq` is still held;
   * otherwise start the stream afresh (the seq counter goes on) and drop what was kept.
   */
  decideResume(lastSeq: number | undefined, epochOk: boolean): ResumeDecision {
    if (lastSeq !== undefined && epochOk && lastSeq <= this.lastSeq && this.resume.canResumeAfter(lastSeq)) {
      return { resumed: true, replay: this.resume.after(lastSeq) };
    }
    this.resume.clear(this.lastSeq);
    return { resumed: false, replay: [] };
  }

  clearTtl(): void {
    if (this.ttlTimer) clearTimeout(this.ttlTimer);
    this.ttlTimer = undefined;
  }
}
