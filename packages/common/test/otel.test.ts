import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { describe, expect, test } from 'vitest';
import { NOOP_TRACER, createHopTracer, loadOtel, tracesUrl } from '../src/otel.ts';
import { parseTraceparent } from '../src/protocol/trace.ts';

const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('hop tracer', () => {
  test('off without an OTLP endpoint: the no-op tracer, and OpenTelemetry is never loaded', async () => {
    let loads = 0;
    const tracer = await createHopTracer({ service: 'broker', env: {}, load: async () => (loads++, loadOtel()) });
    expect(tracer).toBe(NOOP_TRACER);
    expect(tracer.enabled).toBe(false);
    expect(loads).toBe(0);
    const span = tracer.start({ operation: 'receive', hop: 'web>broker', destination: 'default', frameType: 'message', traceparent: TP });
    expect(span.traceparent).toBeUndefined();
    span.end();
  });

  test('the OTLP URL follows the OTel environment rules', () => {
    expect(tracesUrl({})).toBeUndefined();
    expect(tracesUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' })).toBe('http://collector:4318/v1/traces');
    expect(tracesUrl({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/custom' })).toBe('http://c:4318/custom');
  });

  test('a span per hop, parented on the frame traceparent, with messaging attributes; hops chain into one trace', async () => {
    const exporter = new InMemorySpanExporter();
    const tracer = await createHopTracer({ service: 'agent-bridge-broker', exporter, resource: { 'service.instance.id': 'node-1' } });
    expect(tracer.enabled).toBe(true);
    const receive = tracer.start({
      operation: 'receive',
      hop: 'web>broker',
      destination: 'trader',
      frameType: 'message',
      messageId: 'c-1',
      bytes: 42,
      traceparent: TP,
      tracestate: 'congo=t61rcWkgMzE',
    });
    const send = tracer.start({ operation: 'send', hop: 'broker>agent', destination: 'trader', frameType: 'client.message', traceparent: receive.traceparent });
    send.end();
    receive.end();
    const [s2, s1] = exporter.getFinishedSpans();
    expect(s1!.name).toBe('receive trader');
    expect(s1!.kind).toBe(SpanKind.CONSUMER);
    expect(s1!.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(s1!.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    expect(s1!.parentSpanContext?.traceState?.get('congo')).toBe('t61rcWkgMzE');
    expect(s1!.attributes).toMatchObject({
      'messaging.system': 'agent_bridge',
      'messaging.operation.type': 'receive',
      'messaging.operation.name': 'message',
      'messaging.destination.name': 'trader',
      'messaging.message.id': 'c-1',
      'messaging.message.body.size': 42,
      'agent_bridge.hop': 'web>broker',
    });
    expect(s1!.resource.attributes['service.name']).toBe('agent-bridge-broker');
    expect(s1!.resource.attributes['service.instance.id']).toBe('node-1');
    // the second hop is the first's child: same trace, linked by parent
    expect(parseTraceparent(receive.traceparent)?.parentId).toBe(s1!.spanContext().spanId);
    expect(s2!.kind).toBe(SpanKind.PRODUCER);
    expect(s2!.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(s2!.parentSpanContext?.spanId).toBe(s1!.spanContext().spanId);
    await tracer.shutdown();
  });

  test('without a valid traceparent the span starts a trace; an error marks the span', async () => {
    const exporter = new InMemorySpanExporter();
    const tracer = await createHopTracer({ service: 'web', exporter });
    const span = tracer.start({ operation: 'process', hop: 'browser>web', destination: 'default', frameType: 'message', traceparent: '00-00000000000000000000000000000000-00f067aa0ba902b7-01' });
    span.end(new Error('agent_unavailable'));
    const [s] = exporter.getFinishedSpans();
    expect(s!.parentSpanContext).toBeUndefined();
    expect(s!.spanContext().traceId).not.toBe('00000000000000000000000000000000');
    expect(s!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'agent_unavailable' });
    expect(s!.events.some((e) => e.name === 'exception')).toBe(true);
  });

  test('with OTEL_EXPORTER_OTLP_ENDPOINT set, spans reach the collector over OTLP/HTTP', async () => {
    const bodies: Array<{ url: string; body: string }> = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        bodies.push({ url: req.url ?? '', body });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as AddressInfo).port;
      const tracer = await createHopTracer({ service: 'agent-bridge-web', env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` } });
      expect(tracer.enabled).toBe(true);
      tracer.start({ operation: 'send', hop: 'web>browser', destination: 'clients', frameType: 'message', traceparent: TP }).end();
      await tracer.shutdown(); // flushes the batch
      expect(bodies.map((b) => b.url)).toContain('/v1/traces');
      const sent = bodies.map((b) => b.body).join('');
      expect(sent).toContain('agent-bridge-web');
      expect(sent).toContain('4bf92f3577b34da6a3ce929d0e0e4736'); // OTLP/JSON carries ids as hex
    } finally {
      server.close();
    }
  });
});
