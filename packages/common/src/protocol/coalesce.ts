/**
 * Coalescing of streamed run events (PROTOCOL §9), and the client side of it (the offset rule).
 *
 * A run streams text as many `TEXT_MESSAGE_CONTENT` events (tool arguments as `TOOL_CALL_ARGS`),
 * each a seq'd `message` frame. While a client is away or slow, the bridge may fold a stretch of
 * them into one frame, so a 10,000-delta reply fits the resume buffer:
 *
 *   {"type":"message","seq":<last>,"id":<last's id>,"merged":[first,last],
 *    "data":{…the last event…,"delta":<joined deltas>,"offset":N}}
 *
 * `offset` is the UTF-16 code units of that message's text before the delta. A client holding `L`
 * units of the message drops the first `L − N` units of the delta (none if `L ≤ N`), so a frame it
 * has partly seen (it got seqs first..k live, then resumed after k and got the merged frame) adds
 * only what it lacks.
 *
 * Pure and browser-safe: the broker's resume buffer and mailbox call it on frames they hold
 * (parsed), the browser client uses TextAssembler. Nothing here knows sockets or sessions.
 */
import { EventType } from '@ag-ui/core';

/** A seq'd frame as a bridge holds or a client receives it (parsed JSON). */
export interface SeqFrame {
  type: string;
  seq: number;
  id?: string;
  from?: string;
  data?: unknown;
  ts?: string;
  /** Inclusive seq range a coalesced frame stands for (its own seq is the last). */
  merged?: [number, number];
  [field: string]: unknown;
}

/** The two event types whose deltas may be joined, and the field naming their stream. */
const STREAMS: Record<string, 'messageId' | 'toolCallId'> = {
  [EventType.TEXT_MESSAGE_CONTENT]: 'messageId',
  [EventType.TOOL_CALL_ARGS]: 'toolCallId',
};
/** Events after which a stream takes no more deltas (its offset state can be forgotten). */
const STREAM_ENDS: Record<string, 'messageId' | 'toolCallId'> = {
  [EventType.TEXT_MESSAGE_END]: 'messageId',
  [EventType.TOOL_CALL_END]: 'toolCallId',
};

/** A streamed delta event: AG-UI's fields plus our optional offset. */
export interface DeltaEvent {
  type: string;
  delta: string;
  offset?: number;
  messageId?: string;
  toolCallId?: string;
  [field: string]: unknown;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The stream a delta event belongs to (`TEXT_MESSAGE_CONTENT:<messageId>` or
 * `TOOL_CALL_ARGS:<toolCallId>`), or undefined when `data` is no such event.
 */
export function deltaStreamKey(data: unknown): string | undefined {
  if (!isRecord(data) || typeof data.type !== 'string' || typeof data.delta !== 'string') return undefined;
  const idField = STREAMS[data.type];
  if (idField === undefined) return undefined;
  const id = data[idField];
  return typeof id === 'string' ? `${data.type}:${id}` : undefined;
}

/** Events that open a stream (its first delta is at offset 0), by the field naming the stream. */
const STREAM_STARTS: Record<string, 'messageId' | 'toolCallId'> = {
  [EventType.TEXT_MESSAGE_START]: 'messageId',
  [EventType.TOOL_CALL_START]: 'toolCallId',
};

/**
 * For an event that opens or closes a delta stream (`TEXT_MESSAGE_START` / `_END`,
 * `TOOL_CALL_START` / `_END`), the stream's key as deltaStreamKey gives it for the stream's deltas,
 * and which edge it is; undefined for any other data.
 */
export function streamEdge(data: unknown): { key: string; edge: 'start' | 'end' } | undefined {
  if (!isRecord(data) || typeof data.type !== 'string') return undefined;
  const startField = STREAM_STARTS[data.type];
  const field = startField ?? STREAM_ENDS[data.type];
  if (field === undefined) return undefined;
  const id = data[field];
  if (typeof id !== 'string') return undefined;
  const contentType = field === 'messageId' ? EventType.TEXT_MESSAGE_CONTENT : EventType.TOOL_CALL_ARGS;
  return { key: `${contentType}:${id}`, edge: startField !== undefined ? 'start' : 'end' };
}

/** The runId of a run's last event (`RUN_FINISHED` / `RUN_ERROR` carrying a string runId), else undefined. */
export function runEndId(data: unknown): string | undefined {
  if (!isRecord(data) || (data.type !== EventType.RUN_FINISHED && data.type !== EventType.RUN_ERROR)) return undefined;
  return typeof data.runId === 'string' ? data.runId : undefined;
}

/** `data.runId` when `data` is an object carrying a string runId (a run's event), else undefined. */
export function runIdOf(data: unknown): string | undefined {
  return isRecord(data) && typeof data.runId === 'string' ? data.runId : undefined;
}

/** A delta event's own offset when it carries a valid one (a non-negative safe integer). */
export const offsetOf = (data: unknown): number | undefined => {
  const o = isRecord(data) ? data.offset : undefined;
  return typeof o === 'number' && Number.isSafeInteger(o) && o >= 0 ? o : undefined;
};

/** First and last seq a frame stands for. */
export function seqRange(f: SeqFrame): [number, number] {
  return f.merged ?? [f.seq, f.seq];
}

export interface MergeOptions {
  /**
   * Longest joined delta, in UTF-16 code units, a merge may produce (so a coalesced frame stays
   * under MAX_MESSAGE_BYTES: a code unit costs at most 6 bytes of JSON). Default: no limit.
   */
  maxDeltaUnits?: number;
}

/**
 * True when `next` may be folded into `prev`: both `message` frames from the same agent carrying
 * delta events of the same stream, adjacent in seq order (nothing between them, not even a
 * dropped broadcast), and contiguous in text (`next.offset` = `prev.offset` + `prev.delta.length`).
 * Frames without offsets never merge: the merged frame could not say where its text starts.
 */
export function canMerge(prev: SeqFrame, next: SeqFrame, opts: MergeOptions = {}): boolean {
  if (prev.type !== 'message' || next.type !== 'message' || prev.from !== next.from) return false;
  // Adjacent: `next` (or the range it already stands for) starts right after `prev` ends.
  if (seqRange(next)[0] !== seqRange(prev)[1] + 1) return false;
  return sameStream(prev, next, opts);
}

function sameStream(prev: SeqFrame, next: SeqFrame, opts: MergeOptions): boolean {
  const key = deltaStreamKey(prev.data);
  if (key === undefined || key !== deltaStreamKey(next.data)) return false;
  const a = prev.data as DeltaEvent;
  const b = next.data as DeltaEvent;
  const ao = offsetOf(a);
  const bo = offsetOf(b);
  if (ao === undefined || bo === undefined || bo !== ao + a.delta.length) return false;
  if (a.runId !== b.runId) return false;
  return opts.maxDeltaUnits === undefined || a.delta.length + b.delta.length <= opts.maxDeltaUnits;
}

/**
 * `prev` and `next` as one frame (call canMerge first): the seq, id and ts of `next`, the range of
 * both, `next`'s event with the joined delta and `prev`'s offset. Neither input is changed.
 */
export function mergeFrames(prev: SeqFrame, next: SeqFrame): SeqFrame {
  const a = prev.data as DeltaEvent;
  const b = next.data as DeltaEvent;
  return {
    ...next,
    merged: [seqRange(prev)[0], seqRange(next)[1]],
    data: { ...b, delta: a.delta + b.delta, offset: a.offset },
  };
}

/** `mergeFrames(prev, next)` when allowed, else undefined: for a buffer appending one frame at a time. */
export function tryMerge(prev: SeqFrame | undefined, next: SeqFrame, opts: MergeOptions = {}): SeqFrame | undefined {
  return prev !== undefined && canMerge(prev, next, opts) ? mergeFrames(prev, next) : undefined;
}

/**
 * Every run of mergeable neighbours folded into one frame, in order. Frames that cannot merge
 * (system frames, other events, other streams in between, gaps in seq) pass through unchanged.
 */
export function coalesce<F extends SeqFrame>(frames: readonly F[], opts: MergeOptions = {}): (F | SeqFrame)[] {
  const out: (F | SeqFrame)[] = [];
  for (const f of frames) {
    const merged = tryMerge(out[out.length - 1], f, opts);
    if (merged) out[out.length - 1] = merged;
    else out.push(f);
  }
  return out;
}

/**
 * Gives every delta event its `offset` when the sender left it out, so that frames can merge
 * later. Offsets are a property of the message, not of a recipient: the bridge keeps one tracker
 * per agent name and stamps the event once, before it is rendered for its recipients.
 * Bounded: beyond `maxStreams` open streams the oldest is forgotten (its later deltas are then not
 * stamped and never merge, which is safe).
 */
export class OffsetTracker {
  private readonly next = new Map<string, number>();

  constructor(private readonly maxStreams = 10_000) {}

  /** `data` itself, or a copy with `offset` added; an end event forgets its stream. */
  stamp<T>(data: T): T {
    if (!isRecord(data) || typeof data.type !== 'string') return data;
    const endField = STREAM_ENDS[data.type];
    if (endField !== undefined) {
      const id = data[endField];
      const contentType = endField === 'messageId' ? EventType.TEXT_MESSAGE_CONTENT : EventType.TOOL_CALL_ARGS;
      if (typeof id === 'string') this.next.delete(`${contentType}:${id}`);
      return data;
    }
    const key = deltaStreamKey(data);
    if (key === undefined) return data;
    const delta = data.delta as string;
    const given = offsetOf(data);
    const offset = given ?? this.next.get(key) ?? 0;
    this.next.delete(key); // re-insert: Map order is then least recently used first
    this.next.set(key, offset + delta.length);
    if (this.next.size > this.maxStreams) this.next.delete(this.next.keys().next().value!);
    return given === undefined ? ({ ...data, offset } as T) : data;
  }

  get size(): number {
    return this.next.size;
  }
}

/**
 * The client side of the offset rule: the text of each stream, from delta events in the order
 * they arrive (live, merged, replayed). An event with `offset` N, arriving when `L` units are
 * held, contributes `delta` without its first `L − N` units (all of it if `L ≤ N`); an event
 * without `offset` is appended whole (a sender that never coalesces).
 */
export class TextAssembler {
  private readonly texts = new Map<string, string>();

  /** Apply one delta event; returns the units actually added ('' for a full duplicate). */
  apply(event: { delta: string; offset?: number | undefined }, key: string): string {
    const held = this.texts.get(key) ?? '';
    const added = appendDelta(held, event);
    if (added.length > 0 || !this.texts.has(key)) this.texts.set(key, held + added);
    return added;
  }

  text(key: string): string {
    return this.texts.get(key) ?? '';
  }

  delete(key: string): void {
    this.texts.delete(key);
  }
}

/** What a delta adds to `held` units of text under the offset rule. */
export function appendDelta(held: string, event: { delta: string; offset?: number | undefined }): string {
  const n = event.offset;
  if (typeof n !== 'number' || held.length <= n) return event.delta;
  return event.delta.slice(held.length - n);
}
