/**
 * OpenTelemetry hop spans in the SDK (issue 15 item 3), opt-in: the SDK never loads
 * OpenTelemetry unless its user asks. Two ways in:
 *
 * - `tracer` option: any object with this shape. `createAgentTracer()` makes one that exports over
 *   OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `…_TRACES_ENDPOINT`) is set, importing the
 *   OpenTelemetry packages (optional peer dependencies) only then, and is a no-op otherwise.
 * - no `tracer`: nothing happens per frame, not even a check beyond `undefined`.
 *
 * Spans: `receive <agent>` (CONSUMER, hop `broker>agent`) per client.message, parented on its
 * `_meta.traceparent`; `send <agent>` (PRODUCER, hop `agent>broker`) per send/reply that carries
 * a trace, parented on that receive span for a reply. The reply's `_meta.traceparent` then names
 * the send span (same trace id), so the broker's and web server's spans of the answer are its
 * children. Messaging semantic-convention attributes (`messaging.system` = `agent_bridge`, …).
 */
import { createHopTracer } from '@agent-bridge/common/otel';

export interface AgentSpanInput {
  operation: 'send' | 'receive' | 'process';
  hop: string;
  destination: string;
  frameType: string;
  messageId?: string | undefined;
  bytes?: number | undefined;
  traceparent?: string | undefined;
  tracestate?: string | undefined;
  attributes?: Record<string, string | number | boolean> | undefined;
}

export interface AgentSpan {
  /** This span as a W3C traceparent (what goes on frames that continue the trace). */
  readonly traceparent: string | undefined;
  end(error?: unknown): void;
}

/** What the `tracer` option takes (the repository's `HopTracer` has this shape). */
export interface AgentTracer {
  /** False: the SDK skips span work entirely. */
  readonly enabled: boolean;
  start(input: AgentSpanInput): AgentSpan;
  /** Flush and stop the exporter; call it when the process ends. */
  shutdown(): Promise<void>;
}

export interface AgentTracerOptions {
  /** `service.name`; default `agent-bridge-agent`. */
  service?: string;
  /** Default process.env; `OTEL_EXPORTER_OTLP_ENDPOINT` turns export on. */
  env?: Record<string, string | undefined>;
  /** More resource attributes, e.g. `{ 'service.instance.id': 'trader-1' }`. */
  resource?: Record<string, string>;
}

/**
 * A tracer for the `tracer` option: OTLP export when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (needs
 * `@opentelemetry/api`, `@opentelemetry/sdk-trace-base`, `@opentelemetry/resources` and
 * `@opentelemetry/exporter-trace-otlp-http` installed), else a no-op that loads nothing.
 */
export function createAgentTracer(opts: AgentTracerOptions = {}): Promise<AgentTracer> {
  return createHopTracer({ service: opts.service ?? 'agent-bridge-agent', env: opts.env, resource: opts.resource });
}
