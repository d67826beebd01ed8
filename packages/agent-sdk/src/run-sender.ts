/**
 * The wire side of a run: every AG-UI event goes out as the `data` of a `send`, stamped with the
 * run's `runId` and `threadId` (PROTOCOL §9), and consecutive deltas of one stream are batched so
 * a model producing a token per millisecond is not a frame per token.
 *
 * Batching is leading-edge + throttle, per stream: the first delta after a quiet spell goes at
 * once (time to first token is not delayed), later ones are joined and sent at most once per
 * `batchMs`. Any other event flushes the pending delta first, so order is exactly what the run
 * wrote. Each delta carries `offset` (UTF-16 units of its stream before it): the bridge can then
 * coalesce frames without tracking the stream itself, and clients can apply the offset rule.
 */
import { EventType } from '@ag-ui/core';

export type RunEvent = Record<string, unknown> & { type: string };

/** Event types whose `delta`s are joined, and the field naming their stream. */
const BATCHED: Record<string, string> = {
  [EventType.TEXT_MESSAGE_CONTENT]: 'messageId',
  [EventType.TOOL_CALL_ARGS]: 'toolCallId',
  [EventType.REASONING_MESSAGE_CONTENT]: 'messageId',
};

export interface RunSenderOptions {
  /** At most one frame per stream per this many ms (default 20). 0 sends every delta at once. */
  batchMs: number;
  /** A pending delta this long (UTF-16 units) goes at once, so no frame nears MAX_MESSAGE_BYTES. */
  maxBatchUnits: number;
}

export const DEFAULT_BATCH_MS = 20;
/** 8,192 units are at most ~48 KiB of JSON even if every unit had to be escaped: under 64 KiB. */
export const DEFAULT_MAX_BATCH_UNITS = 8192;

interface Pending {
  key: string;
  event: RunEvent;
  delta: string;
}

export class RunSender {
  private pending: Pending | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Units already sent per stream (the next delta's offset). */
  private readonly sent = new Map<string, number>();
  /** When each stream last went out, for the throttle. */
  private readonly lastFlush = new Map<string, number>();
  /** A send that failed from the timer, where nobody could catch it; the next call rethrows it. */
  private deferredError: unknown;

  constructor(
    private readonly sendData: (data: RunEvent) => void,
    private ids: { runId: string; threadId: string },
    private readonly opts: RunSenderOptions,
  ) {}

  /** Events after this carry these ids (a run continued after an interrupt has a new runId). */
  rebind(ids: { runId: string; threadId: string }): void {
    this.flush();
    this.ids = ids;
  }

  /** Send an event now (after any pending delta). */
  event(event: RunEvent): void {
    this.flush();
    this.out(event);
  }

  /** Queue a delta event (`TEXT_MESSAGE_CONTENT`, `TOOL_CALL_ARGS`, `REASONING_MESSAGE_CONTENT`). */
  delta(event: RunEvent & { delta: string }): void {
    const idField = BATCHED[event.type];
    const id = idField === undefined ? undefined : event[idField];
    if (typeof id !== 'string') return this.event(event);
    if (event.delta.length === 0) return;
    const key = `${event.type}:${id}`;
    if (this.pending && this.pending.key !== key) this.flush();
    if (this.pending) this.pending.delta += event.delta;
    else this.pending = { key, event, delta: event.delta };
    const due = (this.lastFlush.get(key) ?? -Infinity) + this.opts.batchMs;
    const now = performance.now();
    if (this.pending.delta.length >= this.opts.maxBatchUnits || now >= due) this.flush();
    else this.timer ??= setTimeout(() => this.flushFromTimer(), Math.ceil(due - now));
  }

  /** Send the pending delta, if any. */
  flush(): void {
    this.rethrow();
    clearTimeout(this.timer);
    this.timer = undefined;
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    const offset = this.sent.get(p.key) ?? 0;
    this.sent.set(p.key, offset + p.delta.length);
    this.lastFlush.set(p.key, performance.now());
    this.out({ ...p.event, delta: p.delta, offset });
  }

  /** Drop a pending delta and the timer (the run was cancelled: nothing more of it is wanted). */
  discard(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = undefined;
  }

  private flushFromTimer(): void {
    this.timer = undefined;
    try {
      this.flush();
    } catch (err) {
      this.deferredError = err;
    }
  }

  private rethrow(): void {
    if (this.deferredError === undefined) return;
    const err = this.deferredError;
    this.deferredError = undefined;
    throw err;
  }

  private out(event: RunEvent): void {
    // The event's own ids win (RUN_STARTED/RUN_FINISHED carry them; an adapted source may too).
    this.sendData({ ...event, runId: event.runId ?? this.ids.runId, threadId: event.threadId ?? this.ids.threadId });
  }
}
