/**
 * Issue 15 item 7's premise: with METRICS=off and TRACE=off the pipe's per-frame paths do no
 * metric or trace work at all — not even calls into no-op handles, no `ts` parsing for e2e
 * latency, no traceparent made or looked for, no span — so `pnpm bench` can measure what the
 * instrumentation costs. Each case runs a real round trip browser → pipe → broker → agent → back
 * with spies in place of the per-frame metric handles and a tracer that fails if used; the
 * "on" case proves the spies see the work when it is on.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@agent-bridge/common';
import type { HopTracer } from '@agent-bridge/common/otel';
import { connectRawAgent, TestSocket } from '@agent-bridge/testkit';
import { createWebMetrics, type WebMetrics } from '../src/http/metrics.ts';
import { ClientPipe } from '../src/upstream/client-pipe.ts';
import { startTestBroker, testConfig } from './helpers.ts';

const PER_FRAME = ['framesIn', 'framesOut', 'bytesIn', 'bytesOut', 'e2eLatency'] as const;

/** Real handles for everything else; per-frame handles that count every call. */
function spyMetrics(): { metrics: WebMetrics; calls: () => number } {
  const real = createWebMetrics({ ready: async () => true });
  let calls = 0;
  const spy = { inc: () => void calls++, observe: () => void calls++, dec: () => void calls++, labels: () => spy };
  const metrics = Object.assign(Object.create(real) as WebMetrics, Object.fromEntries(PER_FRAME.map((k) => [k, spy])));
  return { metrics, calls: () => calls };
}

let spans = 0;
const countingTracer = (enabled: boolean): HopTracer => ({
  enabled,
  start: () => {
    spans++;
    if (!enabled) throw new Error('a disabled tracer was used');
    return { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', end() {} };
  },
  shutdown: async () => {},
});

async function roundTrip(on: boolean) {
  const broker = await startTestBroker({ METRICS: on ? 'on' : 'off', TRACE: on ? 'on' : 'off' });
  const logLines: string[] = [];
  const logger = createLogger('web-server', {
    level: 'debug',
    destination: new Writable({
      write(chunk: Buffer, _e, done) {
        logLines.push(chunk.toString());
        done();
      },
    }),
  });
  const { metrics, calls } = spyMetrics();
  // The browser's socket, accepted by a bare ws server whose connection gets a ClientPipe.
  const server = http.createServer();
  const wss = new WebSocketServer({ server });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const pipes: ClientPipe[] = [];
  wss.on('connection', (ws: WebSocket) => {
    pipes.push(
      new ClientPipe({
        browser: ws,
        clientId: randomUUID(),
        address: null,
        resume: {},
        clientIp: '127.0.0.1',
        config: testConfig({ BROKER_URL: broker.wsUrl }),
        logger,
        metrics,
        trace: on,
        perFrameMetrics: on,
        tracer: countingTracer(on),
        onClosed: () => undefined,
      }),
    );
  });
  const agent = await connectRawAgent(broker.wsUrl, { name: 'echo' });
  await agent.next('welcome');
  const browser = await TestSocket.open(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
  try {
    await browser.next('welcome');
    const before = { calls: calls(), spans };
    browser.send({ type: 'message', id: 'c-1', agent: 'echo', data: { text: 'hi' } });
    const msg = await agent.next('client.message');
    agent.send({ type: 'send', to: msg.clientId, data: { text: 'hello' }, ...(msg._meta ? { _meta: msg._meta } : {}) });
    const answer = await browser.next('message');
    return { msg, answer, calls: calls() - before.calls, spans: spans - before.spans, traceLines: logLines.filter((l) => l.includes('traceId')) };
  } finally {
    browser.ws.terminate();
    agent.ws.terminate();
    for (const p of pipes) p.terminate();
    wss.close();
    server.close();
    await broker.close();
  }
}

describe('METRICS=off TRACE=off: no instrumentation work per frame in the pipe', () => {
  let off: Awaited<ReturnType<typeof roundTrip>>;
  let on: Awaited<ReturnType<typeof roundTrip>>;
  beforeAll(async () => {
    off = await roundTrip(false);
    on = await roundTrip(true);
  });
  afterAll(() => undefined);

  it('off: the round trip works and touches no per-frame metric handle, no tracer, no trace id', () => {
    expect(off.answer).toMatchObject({ from: 'echo', data: { text: 'hello' } });
    expect(off.calls).toBe(0);
    expect(off.spans).toBe(0);
    expect(off.msg._meta).toBeUndefined(); // no trace started, the frame reached the broker unchanged
    expect(off.answer._meta).toBeUndefined();
    expect(off.traceLines).toEqual([]); // nor looked for on the way back (debug is on)
  });

  it('on: the same spies see every frame counted, e2e latency observed, spans and a trace id', () => {
    // in and out on both hops, bytes, and to_client latency for the answer
    expect(on.calls).toBeGreaterThanOrEqual(9);
    expect(on.spans).toBe(2); // browser>broker and broker>browser
    expect(on.msg._meta).toMatchObject({ traceparent: expect.stringMatching(/^00-/) });
    expect(on.traceLines.length).toBeGreaterThan(0);
  });
});
