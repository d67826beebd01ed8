/** Issue 15 at the web server: /readyz, GET /api/ops behind OPS_TOKEN, trace context on the pipe. */
import { Writable } from 'node:stream';
import { connectBrowser, connectRawAgent, registerClient, type TestSocket } from '@agent-bridge/testkit';
import { createLogger, OpsSnapshot, parseTraceparent } from '@agent-bridge/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebServer, type WebServer } from '../src/index.ts';
import { rawRequest, startTestBroker, testConfig } from './helpers.ts';

const OPS_TOKEN = 'ops-token-0123456789abcdef';
let broker: Awaited<ReturnType<typeof startTestBroker>>;
let web: WebServer;
const lines: Record<string, unknown>[] = [];
const sockets: TestSocket[] = [];

beforeAll(async () => {
  broker = await startTestBroker();
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  web = await startWebServer(testConfig({ BROKER_URL: broker.wsUrl, OPS_TOKEN }), { logger: createLogger('web-server', { level: 'debug', destination: sink }) });
});
afterAll(async () => {
  for (const s of sockets) s.ws.terminate();
  await web?.close();
  await broker?.close();
});

describe('/readyz', () => {
  it('is ready while the broker is reachable, 503 broker_unreachable when it is not, while /healthz stays 200', async () => {
    const ready = await rawRequest(web.url, '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'ready' });
    expect(ready.headers['cache-control']).toBe('no-store');
    const alone = await startWebServer(testConfig({ BROKER_URL: 'ws://127.0.0.1:1' }), { logger: createLogger('web-server', { level: 'silent' }) });
    try {
      const down = await rawRequest(alone.url, '/readyz');
      expect(down.status).toBe(503);
      expect(down.json()).toEqual({ status: 'unavailable', reasons: ['broker_unreachable'] });
      expect((await rawRequest(alone.url, '/healthz')).status).toBe(200);
      expect(await rawRequest(alone.url, '/metrics').then((r) => r.text)).toMatch(/^agent_bridge_ready 0$/m);
      // drain() (SIGTERM's first step) flips it before anything closes
      alone.drain();
      expect((await rawRequest(alone.url, '/readyz')).json()).toMatchObject({ reasons: ['draining', 'broker_unreachable'] });
      expect((await rawRequest(alone.url, '/healthz')).status).toBe(200);
    } finally {
      await alone.close();
    }
  });

  it('the broker answers its own /readyz: 200 while listening, 503 draining once drain() was called', async () => {
    const b = await startTestBroker();
    try {
      const ok = await rawRequest(b.url, '/readyz');
      expect(ok.status).toBe(200);
      expect(ok.json()).toEqual({ status: 'ready' });
      b.drain();
      const draining = await rawRequest(b.url, '/readyz');
      expect(draining.status).toBe(503);
      expect(draining.json()).toEqual({ status: 'unavailable', reasons: ['draining'] });
      expect((await rawRequest(b.url, '/healthz')).status).toBe(200);
    } finally {
      await b.close();
    }
  });
});

describe('GET /api/ops', () => {
  it('is 404 without OPS_TOKEN set, 401 without the token, and the snapshot (own node + the broker) with it', async () => {
    const none = await startWebServer(testConfig({ BROKER_URL: broker.wsUrl }), { logger: createLogger('web-server', { level: 'silent' }) });
    try {
      expect((await rawRequest(none.url, '/api/ops', { headers: { authorization: `Bearer ${OPS_TOKEN}` } })).status).toBe(404);
    } finally {
      await none.close();
    }
    const missing = await rawRequest(web.url, '/api/ops');
    expect(missing.status).toBe(401);
    expect(missing.json()).toMatchObject({ error: { code: 'unauthorized' } });
    expect((await rawRequest(web.url, '/api/ops', { headers: { authorization: 'Bearer wrong-token-0123456789ab' } })).status).toBe(401);
    const ok = await rawRequest(web.url, '/api/ops', { headers: { authorization: `Bearer ${OPS_TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(ok.headers['cache-control']).toBe('no-store');
    const snap = OpsSnapshot.parse(ok.json());
    expect(snap.nodes.map((n) => n.service)).toContain('web');
    expect(snap.nodes.find((n) => n.service === 'web')).toMatchObject({ ready: true, reasons: [] });
  });
});

describe('trace context on the pipe (§11)', () => {
  it('a browser frame without _meta reaches the broker side with a traceparent the web server logged; one with _meta passes unchanged', async () => {
    const agent = await connectRawAgent(broker.url);
    sockets.push(agent);
    await agent.next('welcome');
    const session = await registerClient(web.url);
    const browser = await connectBrowser(web.url, session);
    sockets.push(browser);
    await browser.next('welcome');
    browser.send({ type: 'message', id: 'tr-1', data: 'x' });
    const got = await agent.next('client.message');
    const tp = parseTraceparent((got._meta as { traceparent?: string } | undefined)?.traceparent);
    expect(tp).toBeDefined();
    await expect.poll(() => lines.some((l) => l.msgId === 'tr-1' && l.started === true && l.traceId === tp!.traceId), { timeout: 5000 }).toBe(true);

    const own = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', tracestate: 'vendor=x' };
    browser.send({ _meta: own, type: 'message', id: 'tr-2', data: 'y' });
    expect((await agent.next('client.message'))._meta).toEqual(own);
    await expect
      .poll(() => lines.some((l) => l.msgId === 'tr-2' && l.traceId === parseTraceparent(own.traceparent)!.traceId && l.started === false), { timeout: 5000 })
      .toBe(true);
  });
});
