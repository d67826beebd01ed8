/**
 * Trace context on the pipe (PROTOCOL §11), without parsing the payload: a browser frame that
 * carries a valid `_meta.traceparent` passes unchanged; one without gets
 * `"_meta":{"traceparent":…}` spliced in first, so the trace starts at the first hop the bridge
 * owns and the broker, the agent and the answer all carry its id. The pipe calls this only when it
 * records the frame (debug log, exported span); otherwise the frame goes on unchanged and the
 * broker starts the trace (client-pipe.ts `traceHere`, docs/protocol.md `TRACE`).
 */
import { attachMeta, newTraceparent, peekMeta, traceIdOf } from '@agent-bridge/common';

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const META = Buffer.from('_meta');

export interface TracedFrame {
  data: Buffer;
  traceId: string | undefined;
  /** True when this hop started the trace. */
  started: boolean;
}

/**
 * `traceparent`: what to splice in when the frame has none (the web server's own hop span when
 * OpenTelemetry export is on, so the broker's and agent's spans become its children); default a
 * new trace.
 */
export function traceBrowserFrame(raw: Buffer, traceparent: string = newTraceparent()): TracedFrame {
  if (raw.includes(META)) {
    const meta = peekMeta(raw.toString());
    if (meta) return { data: raw, traceId: traceIdOf(meta), started: false };
    // A `_meta` without a valid traceparent: ours goes first and the sender's (later, so it is
    // the one JSON.parse keeps) reaches the broker, which starts the trace (ensureMeta).
  }
  const traceId = traceparent.slice(3, 35);
  const head = `{"_meta":{"traceparent":"${traceparent}"}`;
  // The common case, `{"type":…`: splice bytes, no decode/encode of the payload.
  if (raw[0] === OPEN_BRACE && raw.length > 1 && raw[1] !== CLOSE_BRACE && raw[1] !== 0x20 && raw[1] !== 0x0a && raw[1] !== 0x09 && raw[1] !== 0x0d) {
    return { data: Buffer.concat([Buffer.from(`${head},`), raw.subarray(1)]), traceId, started: true };
  }
  const text = raw.toString();
  const spliced = attachMeta(text, { traceparent });
  // Not a JSON object: unchanged (the broker answers it with invalid_json).
  return spliced === text ? { data: raw, traceId: undefined, started: false } : { data: Buffer.from(spliced), traceId, started: true };
}

/** The trace id of a raw frame's `_meta`, if it has a valid one (debug logging of the way back). */
export function traceIdIn(raw: Buffer): string | undefined {
  return raw.includes(META) ? traceIdOf(peekMeta(raw.toString())) : undefined;
}
