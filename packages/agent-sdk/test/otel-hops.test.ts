/**
 * Issue 15 item 3: OpenTelemetry hop spans across every process we own, linked through the
 * frames' `_meta.traceparent`. One message browser → web server → broker → agent and its answer
 * back make one trace whose spans name each other as parents hop by hop; and the SDK's
 * `metricsRegistry` option records to_agent latency and heartbeat RTT. In-process servers, each
 * with its own tracer on one in-memory exporter.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Registry } from 'prom-client';
import { loadConfig, parseTraceparent } from '@agent-bridge/common';
import { createHopTracer, type HopTracer } from '@agent-bridge/common/otel';
import { startBroker, type BrokerHandle } from '@agent-bridge/websocket-server';
import { startWebServer, type WebServer } from '@agent-bridge/web-server';
import { connectBrowser, registerClient, type TestSocket } from '@agent-bridge/testkit';
import { connectAgent, createAgentTracer, type Agent } from '../src/index.ts';
import { silent } from './helpers.ts';

const exporter = new InMemorySpanExporter();
const tracers: HopTracer[] = [];
let broker: BrokerHandle;
let web: WebServer;
let agent: Agent;
const registry = new Registry();
const sockets: TestSocket[] = [];

const env = { NODE_ENV: 'test', LOG_LEVEL: 'silent', WEB_SERVER_ADDR: '127.0.0.1:0', WEBSOCKET_SERVER_ADDR: '127.0.0.1:0' };

beforeAll(async () => {
  const tracer = async (service: string) => {
    const t = await createHopTracer({ service, exporter });
    tracers.push(t);
    return t;
  };
  broker = await startBroker(loadConfig(env), { logger: silent, tracer: await tracer('agent-bridge-broker') });
  web = await startWebServer(loadConfig({ ...env, BROKER_URL: broker.wsUrl }), { logger: silent, tracer: await tracer('agent-bridge-web') });
  agent = connectAgent({
    url: broker.wsUrl,
    token: 'dev_token',
    name: 'echo',
    logger: silent,
    heartbeatTimeoutMs: 150, // pings every 50 ms: RTTs to observe
    tracer: await tracer('agent-bridge-agent'),
    metricsRegistry: registry,
  });
  agent.on('message', (msg) => agent.reply(msg, { text: `echo: ${(msg.data as { text: string }).text}` }));
  await new Promise((r) => agent.once('welcome', r));
});

afterAll(async () => {
  for (const s of sockets) s.ws.terminate();
  await agent?.close();
  await web?.close();
  await broker?.close();
  for (const t of tracers) await t.shutdown();
});

const attr = (s: ReadableSpan, k: string) => s.attributes[k];
const service = (s: ReadableSpan) => s.resource.attributes['service.name'];
const hop = (spans: ReadableSpan[], name: string) => {
  const found = spans.filter((s) => attr(s, 'agent_bridge.hop') === name);
  expect(found, `one span for hop ${name}`).toHaveLength(1);
  return found[0]!;
};

async function roundTrip(frame: Record<string, unknown>): Promise<{ spans: ReadableSpan[]; answer: Record<string, unknown> }> {
  exporter.reset();
  const session = await registerClient(web.url);
  const browser = await connectBrowser(web.url, session);
  sockets.push(browser);
  await browser.next('welcome');
  browser.send(frame);
  const answer = (await browser.next('message')) as Record<string, unknown>;
  // Every span ends before or right after its frame is written: wait for the last hop's.
  for (let i = 0; i < 100 && !exporter.getFinishedSpans().some((s) => attr(s, 'agent_bridge.hop') === 'broker>browser'); i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  return { spans: exporter.getFinishedSpans(), answer };
}

describe('OpenTelemetry hop spans (issue 15)', () => {
  test('a browser message without trace context: the web server starts the trace, and every hop there and back is one linked trace', async () => {
    const { spans, answer } = await roundTrip({ type: 'message', id: 'c-1', agent: 'echo', data: { text: 'hi' } });
    expect(answer).toMatchObject({ from: 'echo', data: { text: 'echo: hi' } });

    const toBroker = hop(spans, 'browser>broker'); // web server, the first hop we own
    const atBroker = hop(spans, 'client>agent'); // broker
    const received = hop(spans, 'broker>agent'); // agent SDK
    const replied = hop(spans, 'agent>broker'); // agent SDK
    const back = hop(spans, 'agent>client'); // broker
    const toBrowser = hop(spans, 'broker>browser'); // web server

    expect([toBroker, atBroker, received, replied, back, toBrowser].map(service)).toEqual([
      'agent-bridge-web',
      'agent-bridge-broker',
      'agent-bridge-agent',
      'agent-bridge-agent',
      'agent-bridge-broker',
      'agent-bridge-web',
    ]);
    // one trace
    const traceId = toBroker.spanContext().traceId;
    for (const s of [atBroker, received, replied, back, toBrowser]) expect(s.spanContext().traceId).toBe(traceId);
    // the answer carries it too (its _meta names the agent's send span)
    const answerTp = parseTraceparent((answer._meta as { traceparent?: string } | undefined)?.traceparent);
    expect(answerTp?.traceId).toBe(traceId);
    expect(answerTp?.parentId).toBe(replied.spanContext().spanId);

    // parent links hop by hop
    const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;
    expect(toBroker.parentSpanContext).toBeUndefined(); // the root
    expect(parentOf(atBroker)).toBe(toBroker.spanContext().spanId);
    expect(parentOf(received)).toBe(toBroker.spanContext().spanId); // the broker passes _meta unchanged (§11)
    expect(parentOf(replied)).toBe(received.spanContext().spanId);
    expect(parentOf(back)).toBe(replied.spanContext().spanId);
    expect(parentOf(toBrowser)).toBe(replied.spanContext().spanId);

    // messaging semantic conventions
    expect(toBroker.kind).toBe(SpanKind.PRODUCER);
    expect(toBroker.name).toBe('send echo');
    expect(toBroker.attributes).toMatchObject({
      'messaging.system': 'agent_bridge',
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'message',
      'messaging.destination.name': 'echo',
      'messaging.message.id': 'c-1',
    });
    expect(attr(toBroker, 'messaging.message.body.size')).toBeGreaterThan(0);
    expect(received.kind).toBe(SpanKind.CONSUMER);
    expect(received.name).toBe('receive echo');
    expect(received.attributes).toMatchObject({ 'messaging.operation.type': 'receive', 'messaging.operation.name': 'client.message', 'messaging.destination.name': 'echo' });
    expect(replied.kind).toBe(SpanKind.PRODUCER);
    expect(replied.attributes).toMatchObject({ 'messaging.operation.type': 'send', 'messaging.operation.name': 'send' });
    expect(toBrowser.attributes).toMatchObject({ 'messaging.operation.type': 'send', 'messaging.operation.name': 'message', 'agent_bridge.from': 'echo' });
  });

  test("a browser's own traceparent is kept: the web server's span is its child and the frame passes unchanged", async () => {
    const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const { spans, answer } = await roundTrip({ type: 'message', id: 'c-2', agent: 'echo', data: { text: 'yo' }, _meta: { traceparent: tp, tracestate: 'congo=t61rcWkgMzE' } });
    const toBroker = hop(spans, 'browser>broker');
    const atBroker = hop(spans, 'client>agent');
    const received = hop(spans, 'broker>agent');
    expect(toBroker.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(toBroker.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    // unchanged: the broker and the agent see the browser's traceparent as their parent
    expect(atBroker.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    expect(received.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    expect(received.parentSpanContext?.traceState?.get('congo')).toBe('t61rcWkgMzE');
    expect(parseTraceparent((answer._meta as { traceparent: string }).traceparent)?.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect((answer._meta as { tracestate?: string }).tracestate).toBe('congo=t61rcWkgMzE');
  });

  // prom-client fills metricName for histogram samples; its published type does not declare it.
  const metricNameOf = (v: object) => (v as { metricName?: string }).metricName;

  test('metricsRegistry: to_agent latency observed per client message, heartbeat RTT per pong', async () => {
    const json = await registry.getMetricsAsJSON();
    const e2e = json.find((m) => m.name === 'agent_bridge_e2e_latency_seconds');
    const count = (m: typeof e2e, labels: Record<string, string>) =>
      m?.values.find((v) => metricNameOf(v)?.endsWith('_count') && Object.entries(labels).every(([k, val]) => v.labels[k] === val))?.value;
    expect(count(e2e, { direction: 'to_agent' })).toBeGreaterThanOrEqual(2); // the two messages above
    const sum = e2e?.values.find((v) => metricNameOf(v)?.endsWith('_sum'))?.value ?? -1;
    expect(sum).toBeGreaterThanOrEqual(0);
    expect(sum).toBeLessThan(5);
    for (let i = 0; i < 100 && !count(json.find((m) => m.name === 'agent_bridge_heartbeat_rtt_seconds'), { kind: 'agent' }); i++) {
      await new Promise((r) => setTimeout(r, 20));
      json.splice(0, json.length, ...(await registry.getMetricsAsJSON()));
    }
    expect(count(json.find((m) => m.name === 'agent_bridge_heartbeat_rtt_seconds'), { kind: 'agent' })).toBeGreaterThan(0);
    // a second agent on the same registry reuses the families (prom-client would throw on a duplicate)
    const other = connectAgent({ url: broker.wsUrl, token: 'dev_token', name: 'other', logger: silent, metricsRegistry: registry });
    await other.close();
  });

  test('createAgentTracer without OTEL_EXPORTER_OTLP_ENDPOINT is the no-op: the SDK does no span work, the reply keeps the message _meta as is', async () => {
    const t = await createAgentTracer({ env: {} });
    expect(t.enabled).toBe(false);
    // A disabled tracer is never asked for a span (this one would throw), and the answer carries
    // exactly the client message's _meta.
    const off = connectAgent({
      url: broker.wsUrl,
      token: 'dev_token',
      name: 'plain',
      logger: silent,
      tracer: { enabled: false, start: () => { throw new Error('span work with the tracer off'); }, shutdown: async () => {} },
    });
    const got: Array<Record<string, unknown> | undefined> = [];
    off.on('message', (msg) => {
      got.push(msg._meta as Record<string, unknown> | undefined);
      off.reply(msg, { text: 'plain' });
    });
    off.on('error', (e) => got.push({ error: e.message }));
    await new Promise((r) => off.once('welcome', r));
    const { answer } = await roundTrip({ type: 'message', id: 'c-3', agent: 'plain', data: { text: 'x' } });
    await off.close();
    expect(got).toHaveLength(1);
    expect(answer._meta).toEqual(got[0]);
  });
});
