/**
 * Coalescing in the broker (PROTOCOL §9): a delta frame (TEXT_MESSAGE_CONTENT / TOOL_CALL_ARGS with
 * an offset) that follows, in a session's seq order, a frame of the same stream is folded into it,
 * in the session's resume buffer and in a slow client's mailbox. So a 10,000-delta reply costs a
 * client that is away a few frames of its resume buffer, not 10,000 (and its resume with them).
 *
 * The rules (same agent, stream and run, adjacent seqs, contiguous offsets) are common's canMerge /
 * mergeFrames; this file gives them the broker's representation: a message body held once and
 * rendered per seq (SharedBody). A merged frame is a DeltaBody, rendered as
 *
 *   {"type":"message","seq":<last>,"merged":[first,last],"id":<last's>,"from","data":{…,"delta":<joined>,"offset":<first's>},"ts"}
 *
 * Cost: a merge never re-serializes the text it already holds. The joined delta is a string
 * concatenation (V8 keeps it as a rope until it is rendered) and its JSON size is added up from
 * the parts, so a stream of n deltas costs O(n) to fold, not O(n²).
 *
 * Sharing: a merge of the same two bodies is the same DeltaBody (memoised on the first), so the
 * sessions a broadcast stream reaches keep sharing one body per merged frame, as they shared the
 * deltas (issue 9's budget counts a shared body once).
 */
import { canMerge, mergeFrames, type DeltaEvent, type SeqFrame } from '@agent-bridge/common';
import { MESSAGE_SEQ_PREFIX } from './frames-out.ts';
import type { OutItem } from './mailbox.ts';
import type { SharedBody } from './resume-buffer.ts';

/** What a delta frame's body keeps so that it can merge (beside its rendered text). */
export interface DeltaPart {
  /** The frame without type and seq: `data` is the parsed delta event, with its offset. */
  readonly body: { id: string; from: string; data: DeltaEvent; ts: string };
  /** How many seqs before its own the frame stands for (0: one event). */
  readonly span: number;
  /** UTF-8 bytes of the delta as a JSON string, without its quotes. */
  readonly deltaBytes: number;
  /** First and last UTF-16 unit of the delta (-1 when empty): a surrogate pair may join across parts. */
  readonly firstUnit: number;
  readonly lastUnit: number;
  /** The last merge made with this part as the first: reused when another session merges the same pair. */
  memo?: { next: DeltaPart; result: DeltaBody };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** JSON text bytes of a string's content (what `"…"` costs without the quotes). */
const jsonStringBytes = (s: string): number => Buffer.byteLength(JSON.stringify(s)) - 2;

/** The DeltaPart of a message body whose data is a delta event with an offset; else undefined. */
export function deltaPartOf(body: { id: string; from: string; data: unknown; ts: string }): DeltaPart | undefined {
  const data = body.data;
  if (!isRecord(data) || typeof data.delta !== 'string' || typeof data.offset !== 'number') return undefined;
  // canMerge decides the rest (stream key, offsets); this only spares non-delta bodies the cost.
  if (typeof data.messageId !== 'string' && typeof data.toolCallId !== 'string') return undefined;
  const delta = data.delta;
  return {
    body: body as DeltaPart['body'],
    span: 0,
    deltaBytes: jsonStringBytes(delta),
    firstUnit: delta.length ? delta.charCodeAt(0) : -1,
    lastUnit: delta.length ? delta.charCodeAt(delta.length - 1) : -1,
  };
}

/** A merged frame: the session-independent part, rendered with each holder's seq. */
export class DeltaBody implements SharedBody {
  refs = 0;
  /** UTF-8 bytes of everything after the seq and range (held once, however many sessions share it). */
  readonly bodyBytes: number;

  constructor(readonly delta: DeltaPart) {
    const { data } = delta.body;
    // The frame with an empty delta, measured; the delta's own bytes are added from its parts.
    const shell = JSON.stringify({ ...delta.body, data: { ...data, delta: '' } });
    this.bodyBytes = Buffer.byteLength(shell) - 1 + delta.deltaBytes;
  }

  render(seq: number): string {
    return `${this.prefix(seq)}${JSON.stringify(this.delta.body).slice(1)}`;
  }

  frameBytes(seq: number): number {
    return this.prefix(seq).length + this.bodyBytes;
  }

  private prefix(seq: number): string {
    return `${MESSAGE_SEQ_PREFIX}${seq},"merged":[${seq - this.delta.span},${seq}],`;
  }
}

const isHigh = (u: number): boolean => u >= 0xd800 && u <= 0xdbff;
const isLow = (u: number): boolean => u >= 0xdc00 && u <= 0xdfff;
/** JSON escapes a lone surrogate as \uXXXX (6 bytes); the two halves joined are one 4-byte character. */
const SURROGATE_JOIN_SAVING = 6 + 6 - 4;

const asSeqFrame = (p: DeltaPart, seq: number): SeqFrame => ({
  type: 'message',
  seq,
  merged: [seq - p.span, seq],
  from: p.body.from,
  data: p.body.data,
});

/**
 * The body standing for `prev` (at `prevSeq`) followed by `next` (at `nextSeq`), or undefined when
 * they may not merge or the merged frame would exceed `maxBytes` (MAX_MESSAGE_BYTES: every frame a
 * client gets stays within the limit).
 */
export function mergeBodies(prev: SharedBody, prevSeq: number, next: SharedBody, nextSeq: number, maxBytes: number): DeltaBody | undefined {
  const a = prev.delta;
  const b = next.delta;
  if (!a || !b || !canMerge(asSeqFrame(a, prevSeq), asSeqFrame(b, nextSeq))) return undefined;
  let result = a.memo?.next === b ? a.memo.result : undefined;
  if (!result) {
    const { data } = mergeFrames(asSeqFrame(a, prevSeq), asSeqFrame(b, nextSeq));
    const joins = isHigh(a.lastUnit) && isLow(b.firstUnit);
    result = new DeltaBody({
      body: { ...b.body, data: data as DeltaEvent },
      span: a.span + 1 + b.span,
      deltaBytes: a.deltaBytes + b.deltaBytes - (joins ? SURROGATE_JOIN_SAVING : 0),
      firstUnit: a.firstUnit >= 0 ? a.firstUnit : b.firstUnit,
      lastUnit: b.lastUnit >= 0 ? b.lastUnit : a.lastUnit,
    });
    // Only a merge that fits is remembered (whether it fits depends a little on the seq's digits).
    if (result.frameBytes(nextSeq) <= maxBytes) a.memo = { next: b, result };
  }
  return result.frameBytes(nextSeq) <= maxBytes ? result : undefined;
}

/**
 * The mailbox's merge (a slow client: frames wait): the last queued frame and a new one as one
 * frame. A broadcast stays droppable only when both were broadcasts; `firstSeq` lets a drop report
 * name every seq the merged frame stood for.
 */
export function mergeOutItems(maxBytes: number): (prev: OutItem, next: OutItem) => OutItem | undefined {
  return (prev, next) => {
    if (!prev.body || !next.body || prev.seq === undefined || next.seq === undefined) return undefined;
    const body = mergeBodies(prev.body, prev.seq, next.body, next.seq, maxBytes);
    if (!body) return undefined;
    return {
      body,
      kind: prev.kind === 'broadcast' && next.kind === 'broadcast' ? 'broadcast' : 'direct',
      type: next.type,
      seq: next.seq,
      firstSeq: next.seq - body.delta.span,
      ...(prev.unbounded ? { unbounded: true } : {}),
    };
  };
}
