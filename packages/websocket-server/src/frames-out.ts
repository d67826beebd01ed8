/**
 * Builders for the JSON text of every frame the broker emits, each typed against its schema in
 * common (protocol/frames.ts), so a builder cannot drift from the contract. Frames are serialized
 * once here so that the same string goes to the socket, the session log and the size checks.
 */
import {
  FrameType,
  type ClientMessageToAgentFrame,
  type ClientWelcomeFrame,
  type DeliveredMessageFrame,
  type ErrorCode,
  type ErrorFrame,
  type FrameInput,
  type SystemEvent,
  type SystemEventFields,
} from '@agent-bridge/common';
import type { DeltaPart } from './coalescing.ts';
import type { SharedBody } from './resume-buffer.ts';

/**
 * A frame's `ts`: now as `Date#toISOString`, formatted once per millisecond. A busy broker stamps
 * two frames per echo round trip (the `client.message` and the reply), dozens in one millisecond,
 * and the formatting (~350 ns) was ~3 % of its CPU per round trip. The same string as
 * `new Date().toISOString()` at the same instant.
 */
let isoMs = Number.NaN;
let iso = '';
export function nowIso(): string {
  const ms = Date.now();
  if (ms !== isoMs) {
    isoMs = ms;
    iso = new Date(ms).toISOString();
  }
  return iso;
}

export interface ErrorExtra {
  ref?: string | undefined;
  clientIds?: string[];
}

export function errorFrame(code: ErrorCode, message: string, extra: ErrorExtra = {}): string {
  const frame: FrameInput<typeof ErrorFrame> = { type: FrameType.error, code, message };
  if (extra.ref !== undefined) frame.ref = extra.ref;
  if (extra.clientIds) frame.clientIds = extra.clientIds;
  return JSON.stringify(frame);
}

/** A `system` frame; `seq` only for the broker's seq'd frames to clients. */
export function systemFrame<E extends SystemEvent>(event: E, fields: SystemEventFields<E>, seq?: number): string {
  const head = seq === undefined ? { type: FrameType.system } : { type: FrameType.system, seq };
  return JSON.stringify({ ...head, event, ...fields, ts: nowIso() });
}

/** The client `welcome` (no seq, never replayed). */
export function clientWelcomeFrame(fields: Omit<FrameInput<typeof ClientWelcomeFrame>, 'type'>): string {
  return JSON.stringify({ type: FrameType.welcome, ...fields } satisfies FrameInput<typeof ClientWelcomeFrame>);
}

/** A `client.message` to an agent, fields in the contract's order (`_meta` before `ts`). */
export function clientMessageFrame(fields: Omit<FrameInput<typeof ClientMessageToAgentFrame>, 'type'>): string {
  const { id, ref, clientId, address, data, _meta, ts } = fields;
  return JSON.stringify({ type: FrameType.clientMessage, id, ref, clientId, address, data, _meta, ts } satisfies FrameInput<
    typeof ClientMessageToAgentFrame
  >);
}

const PREFIX = `{"type":"${FrameType.message}","seq":`;
/** How every seq'd `message` frame starts, up to its seq (merged frames too: coalescing.ts). */
export const MESSAGE_SEQ_PREFIX = PREFIX;
/** Byte length of the longest seq prefix (ASCII, so bytes = characters). */
const MAX_PREFIX_BYTES = `${PREFIX}${Number.MAX_SAFE_INTEGER},`.length;

/** A `message` frame's body: everything but type and seq (and a coalesced frame's `merged`). */
export type MessageBody = Omit<FrameInput<typeof DeliveredMessageFrame>, 'type' | 'seq' | 'merged'> & { id: string; from: string; ts: string };

/**
 * A `message` frame to clients whose seq is filled in per session: the body is serialized once
 * and only the seq prefix changes, so a broadcast to many sessions costs one JSON.stringify. It is
 * also the SharedBody every recipient's resume buffer references (held once per process, however
 * many sessions keep it), and what their mailboxes render only when the frame goes to the socket.
 */
export class SeqMessageTemplate implements SharedBody {
  private readonly suffix: string;
  /** Byte length with the longest possible seq: what the size check uses. */
  readonly maxBytes: number;
  readonly bodyBytes: number;
  refs = 0;
  /** performance.now() when the broker read the agent's frame (delivery latency, first writes only). */
  receivedAt: number | undefined;

  /**
   * `delta`: the parsed body when it is a delta event with an offset (coalescing.ts deltaPartOf),
   * so resume buffers and mailboxes can fold it into the frame before it.
   */
  constructor(
    body: MessageBody,
    readonly delta?: DeltaPart,
  ) {
    // `{"type":"message","seq":N,` + the body without its opening brace.
    this.suffix = JSON.stringify(body).slice(1);
    // The prefix is ASCII, so its byte length is its string length; only the body needs counting
    // (rendering a whole frame here just to measure it cost a full copy per message).
    this.bodyBytes = Buffer.byteLength(this.suffix);
    this.maxBytes = MAX_PREFIX_BYTES + this.bodyBytes;
  }

  render(seq: number): string {
    return `${PREFIX}${seq},${this.suffix}`;
  }

  frameBytes(seq: number): number {
    return PREFIX.length + String(seq).length + 1 + this.bodyBytes;
  }
}
