/**
 * Optional OpenTelemetry export (issue 15 item 3): a span per hop a frame crosses, parented on the
 * frame's `_meta.traceparent`, so the spans of one message across browser → web server → broker →
 * agent form one trace in a collector. Off unless `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
 *
 * Lazy: this file imports OpenTelemetry only inside `createHopTracer`, and only when exporting,
 * so a service that does not export loads none of it (and the no-op tracer's `start` allocates
 * nothing). Imported as `@agent-bridge/common/otel`, never from the package root.
 *
 * One provider per tracer, not registered globally: several services share one test process, and
 * an agent's own process may have its own global OTel set-up that we must not replace.
 */
import type { SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { parseTraceparent, parseTracestate } from './protocol/trace.ts';

export type HopOperation = 'send' | 'receive' | 'process';

export interface HopSpanInput {
  /** Messaging operation type: `receive` (a frame arrived), `send` (we wrote one), `process` (we handled one). */
  operation: HopOperation;
  /** The hop, e.g. `browser>web`, `web>broker`, `broker>agent` (attribute `agent_bridge.hop`). */
  hop: string;
  /** Where the frame goes: an agent name, or `clients` (attribute `messaging.destination.name`). */
  destination: string;
  /** Frame type (attribute `messaging.operation.name`, and the span name with the destination). */
  frameType: string;
  /** The frame's message id, when it has one (`messaging.message.id`). */
  messageId?: string | undefined;
  /** Payload bytes (`messaging.message.body.size`). */
  bytes?: number | undefined;
  /** The frame's `_meta.traceparent`: the span's parent. Invalid or absent: the span starts a trace. */
  traceparent?: string | undefined;
  tracestate?: string | undefined;
  /** More attributes (never secrets). */
  attributes?: Record<string, string | number | boolean> | undefined;
}

export interface HopSpan {
  /** This span as a traceparent: what a hop that re-emits the frame may name as parent downstream. */
  readonly traceparent: string | undefined;
  end(error?: unknown): void;
}

export interface HopTracer {
  readonly enabled: boolean;
  start(input: HopSpanInput): HopSpan;
  /** Flush and stop the exporter (SIGTERM path). */
  shutdown(): Promise<void>;
}

const NOOP_SPAN: HopSpan = { traceparent: undefined, end() {} };
export const NOOP_TRACER: HopTracer = {
  enabled: false,
  start: () => NOOP_SPAN,
  shutdown: async () => {},
};

/** The OpenTelemetry modules we use; `load` is replaceable so a test can prove nothing loads when off. */
export interface OtelModules {
  api: typeof import('@opentelemetry/api');
  sdk: typeof import('@opentelemetry/sdk-trace-base');
  resources: typeof import('@opentelemetry/resources');
}
export const loadOtel = async (): Promise<OtelModules> => {
  const [api, sdk, resources] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/resources'),
  ]);
  return { api, sdk, resources };
};

export interface HopTracerOptions {
  /** `service.name`: `agent-bridge-broker`, `agent-bridge-web`, … */
  service: string;
  /** Defaults to process.env; `OTEL_EXPORTER_OTLP_ENDPOINT` (or `…_TRACES_ENDPOINT`) turns export on. */
  env?: Record<string, string | undefined>;
  /** Export here instead of OTLP (tests: InMemorySpanExporter), synchronously per span. */
  exporter?: SpanExporter;
  /** More resource attributes, e.g. `{ 'service.instance.id': NODE_ID }`. */
  resource?: Record<string, string>;
  load?: () => Promise<OtelModules>;
}

/** The messaging system name we report (semantic conventions allow a custom value). */
export const MESSAGING_SYSTEM = 'agent_bridge';

/**
 * The OTLP/HTTP traces URL the OTel spec derives from the environment: the signal-specific
 * variable as is, else the base endpoint + `/v1/traces`; undefined when neither is set (off).
 */
export function tracesUrl(env: Record<string, string | undefined>): string | undefined {
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (traces) return traces;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  return base ? `${base.replace(/\/+$/, '')}/v1/traces` : undefined;
}

export async function createHopTracer(opts: HopTracerOptions): Promise<HopTracer> {
  const env = opts.env ?? process.env;
  const url = tracesUrl(env);
  if (!opts.exporter && !url) return NOOP_TRACER;
  const { api, sdk, resources } = await (opts.load ?? loadOtel)();
  let processor: SpanProcessor;
  if (opts.exporter) processor = new sdk.SimpleSpanProcessor(opts.exporter);
  else {
    // Headers, timeout and compression come from OTEL_EXPORTER_OTLP_* as users expect; the URL
    // from `env`, so what decided "on" is also where spans go.
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    processor = new sdk.BatchSpanProcessor(new OTLPTraceExporter({ url }));
  }
  const provider = new sdk.BasicTracerProvider({
    resource: resources.resourceFromAttributes({ 'service.name': opts.service, ...opts.resource }),
    spanProcessors: [processor],
  });
  const tracer = provider.getTracer('agent-bridge');

  return {
    enabled: true,
    start(input) {
      const parent = parseTraceparent(input.traceparent);
      let ctx = api.ROOT_CONTEXT;
      if (parent) {
        const state = parseTracestate(input.tracestate);
        ctx = api.trace.setSpanContext(ctx, {
          traceId: parent.traceId,
          spanId: parent.parentId,
          traceFlags: Number.parseInt(parent.flags, 16),
          isRemote: true,
          ...(state ? { traceState: api.createTraceState(state) } : {}),
        });
      }
      const attributes: Record<string, string | number | boolean> = {
        'messaging.system': MESSAGING_SYSTEM,
        'messaging.operation.type': input.operation,
        'messaging.operation.name': input.frameType,
        'messaging.destination.name': input.destination,
        'agent_bridge.hop': input.hop,
        ...input.attributes,
      };
      if (input.messageId !== undefined) attributes['messaging.message.id'] = input.messageId;
      if (input.bytes !== undefined) attributes['messaging.message.body.size'] = input.bytes;
      const span = tracer.startSpan(
        `${input.operation} ${input.destination}`,
        { kind: input.operation === 'send' ? api.SpanKind.PRODUCER : api.SpanKind.CONSUMER, attributes },
        ctx,
      );
      const sc = span.spanContext();
      const flags = (sc.traceFlags & 0xff).toString(16).padStart(2, '0');
      return {
        traceparent: api.isSpanContextValid(sc) ? `00-${sc.traceId}-${sc.spanId}-${flags}` : undefined,
        end(error?: unknown) {
          if (error !== undefined) {
            span.recordException(error instanceof Error ? error : String(error));
            span.setStatus({ code: api.SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
          }
          span.end();
        },
      };
    },
    shutdown: () => provider.shutdown(),
  };
}
