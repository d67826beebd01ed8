/**
 * Where a trace starts (PROTOCOL §11, docs/protocol.md "Trace context"): a browser frame without
 * `_meta` gets its trace at the first hop that records it. A pipe whose logger is at debug logs
 * the frame, so it starts the trace and splices the `_meta` in; at info it records nothing about
 * the frame and forwards it byte for byte (no splice, no random id per frame: issue 15 item 7),
 * and the broker starts the trace (its ensureMeta; observability tests show the id in every log).
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger, parseTraceparent } from '@agent-bridge/common';
import { TestSocket } from '@agent-bridge/testkit';
import { WebSocketServer, type WebSocket } from 'ws';
import { expect, it } from 'vitest';
import { createWebMetrics } from '../src/http/metrics.ts';
import { ClientPipe } from '../src/upstream/client-pipe.ts';
import { testConfig } from './helpers.ts';

/** What a stand-in broker receives for one browser frame through a pipe logging at `level`. */
async function frameAtBroker(level: 'info' | 'debug', frame: string): Promise<string> {
  const received: string[] = [];
  const broker = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((r) => broker.once('listening', r));
  broker.on('connection', (ws) => {
    ws.send(JSON.stringify({ type: 'welcome', clientId: 'c', epoch: 'e', resumed: false, replayed: 0, lastSeq: 0, heartbeatMs: 5000, agents: [] }));
    ws.on('message', (d) => received.push(d.toString()));
  });
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
        config: testConfig({ BROKER_URL: `ws://127.0.0.1:${(broker.address() as AddressInfo).port}` }),
        logger: createLogger('web-server', { level }),
        metrics: createWebMetrics({ ready: async () => true }),
        onClosed: () => undefined,
      }),
    );
  });
  const browser = await TestSocket.open(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
  try {
    await browser.next('welcome');
    browser.ws.send(frame);
    await expect.poll(() => received.length, { timeout: 5000 }).toBe(1);
    return received[0]!;
  } finally {
    browser.ws.terminate();
    for (const p of pipes) p.terminate();
    wss.close();
    server.close();
    broker.close();
  }
}

it('a pipe at info level forwards a frame without _meta unchanged; at debug it starts the trace', async () => {
  const frame = JSON.stringify({ type: 'message', id: 'ts-1', data: 'x' });
  expect(await frameAtBroker('info', frame)).toBe(frame);
  const traced = JSON.parse(await frameAtBroker('debug', frame)) as { _meta?: { traceparent?: string } };
  expect(parseTraceparent(traced._meta?.traceparent)).toBeDefined();
  expect(traced).toMatchObject({ type: 'message', id: 'ts-1', data: 'x' });
});
