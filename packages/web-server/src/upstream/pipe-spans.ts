/**
 * OpenTelemetry hop spans of the pipe (issue 15 item 3), only when export is on (`tracer.enabled`):
 * the pipe otherwise never parses a frame, and with export off none of this runs.
 *
 * - browser → broker: a PRODUCER span `send <agent>` (hop `browser>broker`). The browser sent a
 *   valid `_meta.traceparent`: the span is its child and the frame passes unchanged (§11). It sent
 *   none: the trace starts here and the `_meta` spliced in names this span, so the broker's and
 *   the agent's spans of the message are its children.
 * - broker → browser: a PRODUCER span `send clients` (hop `broker>browser`) for each frame that
 *   carries a trace (an agent's answer), parented on the frame's `_meta.traceparent`, which the
 *   frame keeps unchanged.
 */
import { decodeJson, DEFAULT_AGENT, peekMeta, traceIdOf } from '@agent-bridge/common';
import type { HopSpan, HopTracer } from '@agent-bridge/common/otel';
import { traceBrowserFrame, type TracedFrame } from './trace-frame.ts';

const META = Buffer.from('_meta');

interface FrameFacts {
  type: string;
  id: string | undefined;
  agent: string | undefined;
  from: string | undefined;
}

function factsOf(text: string): FrameFacts {
  const decoded = decodeJson(text);
  const v = decoded.ok ? decoded.value : {};
  const str = (x: unknown) => (typeof x === 'string' ? x : undefined);
  return { type: str(v.type) ?? 'invalid', id: str(v.id), agent: str(v.agent), from: str(v.from) };
}

/** Browser → broker with a span; `inject` (TRACE=on): a frame without `_meta` gets one naming the span. */
export function spanToBroker(tracer: HopTracer, raw: Buffer, inject: boolean): TracedFrame & { span: HopSpan } {
  const text = raw.toString();
  const meta = raw.includes(META) ? peekMeta(text) : undefined;
  const facts = factsOf(text);
  const span = tracer.start({
    operation: 'send',
    hop: 'browser>broker',
    destination: facts.agent ?? DEFAULT_AGENT,
    frameType: facts.type,
    messageId: facts.id,
    bytes: raw.length,
    traceparent: meta?.traceparent,
    tracestate: meta?.tracestate,
  });
  if (meta) return { data: raw, traceId: traceIdOf(meta), started: false, span };
  if (!inject || !span.traceparent) return { data: raw, traceId: undefined, started: false, span };
  return { ...traceBrowserFrame(raw, span.traceparent), span };
}

/** Broker → browser: a span for a frame that carries a trace, else undefined. */
export function spanToBrowser(tracer: HopTracer, data: Buffer): HopSpan | undefined {
  if (!data.includes(META)) return undefined;
  const text = data.toString();
  const meta = peekMeta(text);
  if (!meta) return undefined;
  const facts = factsOf(text);
  return tracer.start({
    operation: 'send',
    hop: 'broker>browser',
    destination: 'clients',
    frameType: facts.type,
    messageId: facts.id,
    bytes: data.length,
    traceparent: meta.traceparent,
    tracestate: meta.tracestate,
    attributes: facts.from === undefined ? undefined : { 'agent_bridge.from': facts.from },
  });
}
