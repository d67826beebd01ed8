/**
 * Each session's seq'd frames (PROTOCOL §5): `append` allocates the next seq and keeps the frame
 * in one step, so two writers (two brokers, later) can never give one seq twice; `after(lastSeq)`
 * answers what a resume replays and whether that replay is complete (never a partial replay
 * presented as complete). The per-session bounds, the global RESUME_BUDGET_BYTES, shared message
 * bodies and the coalescing of run deltas are the log's business, behind this interface.
 */
import type { BufferedFrame, SharedBody } from '../resume-buffer.ts';
import type { FrameKind } from '../mailbox.ts';
import type { Awaitable } from './awaitable.ts';

/** A frame to append: a shared message body (rendered per seq), or a frame of its own text. */
export type LogEntry = { type: string; body: SharedBody } | { type: string; render: (seq: number) => string };

/** A frame as the log holds it: its seq and its own text or shared body. */
export type LoggedFrame = Pick<BufferedFrame, 'seq' | 'type' | 'payload' | 'body'> & {
  /**
   * Cluster: the broker holding the session's socket (empty: none). When it is another broker,
   * the append already notified it (the append and the notification are one atomic step).
   */
  owner?: string;
};

export interface Replay {
  /** Every frame after the asked seq is held: `frames` is the whole replay. */
  complete: boolean;
  frames: LoggedFrame[];
  /** The log's last seq when it was read (a shared log answers it in the same step). */
  lastSeq?: number;
}

export interface SessionLog {
  /**
   * Allocate the session's next seq for `entry` and keep it; the frame as held (to send it now).
   * `kind` is how the socket's mailbox treats it (a shared log tells the socket's broker).
   */
  append(clientId: string, entry: LogEntry, kind?: FrameKind): Awaitable<LoggedFrame>;
  /** The frames with seq > lastSeq, and whether that is all of them (false: some are gone). */
  after(clientId: string, lastSeq: number): Awaitable<Replay>;
  /** The client has everything through `seq` (a seq beyond the last counts as the last). */
  ack(clientId: string, seq: number): Awaitable<void>;
  /** The highest seq allocated (0 for a session without frames). */
  lastSeq(clientId: string): Awaitable<number>;
  /**
   * A fresh start of the session's stream: forget every held frame; the seq counter goes on. A
   * shared log answers the last seq at the reset (frames after it are new to the socket).
   */
  reset(clientId: string): Awaitable<void | number>;
  /** The session ended for good: forget it and its counter. */
  drop(clientId: string): Awaitable<void>;
  /**
   * A shared log (cluster): append without telling the socket's broker, answering the frame's
   * text halves around its seq, so a broadcast is told to each broker once, not once per session
   * (PROTOCOL §10). Absent in memory (there is nobody else to tell).
   */
  appendSilently?(clientId: string, entry: LogEntry, kind: FrameKind, dedup?: string): Promise<LoggedFrame>;
  /**
   * A shared log: append only when the session exists, in the same step (a `send` to a list then
   * costs one round trip per recipient, not two); undefined for an unknown session.
   */
  appendKnown?(clientId: string, entry: LogEntry, kind: FrameKind, dedup?: string): Promise<LoggedFrame | undefined>;
  // `dedup` (both): an agent frame's name + id (§8); a session that already has a frame appended
  // under it answers seq -1 and stores nothing (a resend after its accepted was lost).
  /** The text of `entry` before and after its seq (what appendSilently's frames render from). */
  split?(entry: LogEntry): [string, string];
  /** Bytes charged against RESUME_BUDGET_BYTES (metrics). */
  bytes(): Awaitable<number>;
}
