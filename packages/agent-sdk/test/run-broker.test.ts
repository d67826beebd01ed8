// Runs through the real broker (in process) to a raw client upstream: the run writer, and the AG-UI
// adapter fed by a real AG-UI SSE endpoint (@ag-ui/encoder on an http server) via @ag-ui/client's
// HttpAgent, and by an async iterable.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpAgent } from '@ag-ui/client';
import { EventType, type BaseEvent, type RunAgentInput } from '@ag-ui/core';
import { EventEncoder } from '@ag-ui/encoder';
import { loadConfig } from '@agent-bridge/common';
import { TestSocket } from '@agent-bridge/testkit';
import { startBroker } from '@agent-bridge/websocket-server';
import { afterEach, describe, expect, test } from 'vitest';
import { connectAgent, streamAgUi, type Agent } from '../src/index.ts';
import { FAST_BACKOFF, nextEvent, silent, sleep } from './helpers.ts';

const ENV = {
  WEBSOCKET_SERVER_ADDR: '127.0.0.1:0',
  LOG_LEVEL: 'silent',
  HEARTBEAT_INTERVAL_MS: '50',
  HEARTBEAT_TIMEOUT_MS: '300',
  SESSION_TTL_MS: '5000',
};

const cleanup: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
});

async function stack(): Promise<{ agent: Agent; client: TestSocket & { id: string } }> {
  const b = await startBroker(loadConfig(ENV), { logger: silent });
  cleanup.push(() => b.close());
  const clientId = randomUUID();
  const ws = await TestSocket.open(`${b.wsUrl}/ws/client/${clientId}`, { headers: { Authorization: 'Bearer dev_proxy_token' } });
  cleanup.push(() => ws.close(1000));
  await ws.next('welcome');
  const agent = connectAgent({ url: b.wsUrl, token: 'dev_token', logger: silent, heartbeatTimeoutMs: 300, backoff: FAST_BACKOFF });
  cleanup.push(() => agent.close());
  await nextEvent(agent, 'welcome');
  return { agent, client: Object.assign(ws, { id: clientId }) };
}

/** The run events a client received, in seq order. */
const runEvents = (c: TestSocket) => c.all('message').map((f) => f.data as Record<string, any>);
const arrived = (c: TestSocket, pred: (e: Record<string, any>) => boolean, what: string) =>
  expect.poll(() => runEvents(c).some(pred), { timeout: 5000, message: what }).toBe(true);

/** A scripted AG-UI agent over HTTP: POST a RunAgentInput, get its events as SSE (the encoder's format). */
async function sseAgent(script: (input: RunAgentInput) => BaseEvent[], gapMs = 0): Promise<{ url: string; requests: RunAgentInput[]; closed: () => boolean }> {
  const requests: RunAgentInput[] = [];
  let responseClosed = false;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', async () => {
      const input = JSON.parse(body) as RunAgentInput;
      requests.push(input);
      const encoder = new EventEncoder({ accept: req.headers.accept ?? 'text/event-stream' });
      res.writeHead(200, { 'Content-Type': encoder.getContentType(), 'Cache-Control': 'no-cache' });
      res.on('close', () => (responseClosed = true));
      for (const ev of script(input)) {
        if (res.destroyed) return;
        res.write(encoder.encode(ev));
        if (gapMs > 0) await sleep(gapMs);
      }
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/agent`, requests, closed: () => responseClosed };
}

const story = (input: RunAgentInput): BaseEvent[] => [
  { type: EventType.RUN_STARTED, threadId: input.threadId, runId: input.runId } as BaseEvent,
  { type: EventType.TEXT_MESSAGE_START, messageId: 'm1', role: 'assistant' } as BaseEvent,
  ...['Once ', 'upon ', 'a ', 'time 🐉'].map((delta) => ({ type: EventType.TEXT_MESSAGE_CONTENT, messageId: 'm1', delta }) as BaseEvent),
  { type: EventType.TEXT_MESSAGE_END, messageId: 'm1' } as BaseEvent,
  { type: EventType.TOOL_CALL_START, toolCallId: 'tc1', toolCallName: 'weather', parentMessageId: 'm1' } as BaseEvent,
  { type: EventType.TOOL_CALL_ARGS, toolCallId: 'tc1', delta: '{"city":"Oslo"}' } as BaseEvent,
  { type: EventType.TOOL_CALL_END, toolCallId: 'tc1' } as BaseEvent,
  { type: EventType.TOOL_CALL_RESULT, messageId: 'm2', toolCallId: 'tc1', content: 'rain', role: 'tool' } as BaseEvent,
  { type: EventType.STATE_SNAPSHOT, snapshot: { city: 'Oslo' } } as BaseEvent,
  { type: EventType.RUN_FINISHED, threadId: input.threadId, runId: input.runId } as BaseEvent,
];

describe('runs through the real broker', () => {
  test('a run writer’s events reach the client as seq’d message frames, in order, with runId/threadId', async () => {
    const { agent, client } = await stack();
    const run = agent.run(client.id, { threadId: 'th', runId: 'r1', batchMs: 0 });
    run.text('Hi ');
    run.text('there');
    run.toolCall('echo', { x: 1 }, { toolCallId: 'tc' }).result('1');
    run.finish();
    await arrived(client, (e) => e.type === 'RUN_FINISHED', 'RUN_FINISHED');
    const frames = client.all('message');
    expect(frames.map((f) => f.data.type)).toEqual([
      'RUN_STARTED',
      'TEXT_MESSAGE_START',
      'TEXT_MESSAGE_CONTENT',
      'TEXT_MESSAGE_CONTENT',
      'TEXT_MESSAGE_END',
      'TOOL_CALL_START',
      'TOOL_CALL_ARGS',
      'TOOL_CALL_END',
      'TOOL_CALL_RESULT',
      'RUN_FINISHED',
    ]);
    for (let i = 1; i < frames.length; i++) expect(frames[i]!.seq).toBe(frames[0]!.seq + i);
    expect(frames.every((f) => f.from === 'default' && f.data.runId === 'r1' && f.data.threadId === 'th')).toBe(true);
  });
});

describe('AG-UI adapter', () => {
  test('an @ag-ui/client HttpAgent on a real SSE endpoint streams through the bridge: the exact event sequence arrives', async () => {
    const { agent, client } = await stack();
    const sse = await sseAgent(story);
    const result = await streamAgUi(agent, client.id, new HttpAgent({ url: sse.url }), {
      threadId: 'thread-1',
      runId: 'run-1',
      input: { messages: [{ id: 'u1', role: 'user', content: 'tell me a story' }] },
      batchMs: 0,
    });
    expect(result).toEqual({ runId: 'run-1', threadId: 'thread-1', events: 13, cancelled: false });
    expect(sse.requests[0]).toMatchObject({ threadId: 'thread-1', runId: 'run-1', messages: [{ content: 'tell me a story' }] });
    await arrived(client, (e) => e.type === 'RUN_FINISHED', 'RUN_FINISHED');
    const want = story({ threadId: 'thread-1', runId: 'run-1' } as RunAgentInput);
    const got = runEvents(client);
    expect(got.map((e) => e.type)).toEqual(want.map((e) => e.type));
    // Each event as the source sent it, plus runId/threadId (and the offset of streamed deltas).
    got.forEach((e, i) => {
      const { offset: _offset, ...rest } = e;
      expect(rest).toEqual({ runId: 'run-1', threadId: 'thread-1', ...want[i] });
    });
    expect(got.filter((e) => e.type === 'TEXT_MESSAGE_CONTENT').map((e) => e.offset)).toEqual([0, 5, 10, 12]);
  });

  test('with batching on, a fast source’s deltas arrive joined, and the text is exact', async () => {
    const { agent, client } = await stack();
    const sse = await sseAgent(story);
    await streamAgUi(agent, client.id, new HttpAgent({ url: sse.url }), { threadId: 't', runId: 'r', batchMs: 50 });
    await arrived(client, (e) => e.type === 'RUN_FINISHED', 'RUN_FINISHED');
    const contents = runEvents(client).filter((e) => e.type === 'TEXT_MESSAGE_CONTENT');
    expect(contents.map((e) => e.delta).join('')).toBe('Once upon a time 🐉');
    expect(contents.length).toBeLessThan(4);
  });

  test('an async iterable source; a cancel stops the source and ends the run cancelled', async () => {
    const { agent, client } = await stack();
    let stoppedAt = -1;
    async function* slowStory(): AsyncGenerator<BaseEvent> {
      let i = 0;
      try {
        yield { type: EventType.RUN_STARTED, threadId: 't', runId: 'gen-run' } as BaseEvent;
        yield { type: EventType.TEXT_MESSAGE_START, messageId: 'm', role: 'assistant' } as BaseEvent;
        for (; i < 1000; i++) {
          yield { type: EventType.TEXT_MESSAGE_CONTENT, messageId: 'm', delta: `w${i} ` } as BaseEvent;
          await sleep(5);
        }
      } finally {
        stoppedAt = i;
      }
    }
    const done = streamAgUi(agent, client.id, slowStory(), { batchMs: 0 });
    await arrived(client, (e) => e.type === 'TEXT_MESSAGE_CONTENT' && e.delta === 'w3 ', 'a few deltas');
    // What the broker would deliver for the client's `cancel` (it routes it from the next phase).
    expect(agent.runs.onCancel({ type: 'client.cancel', clientId: client.id, address: null, runId: 'gen-run', ts: '' })).toBe(true);
    const result = await done;
    expect(result).toMatchObject({ runId: 'gen-run', cancelled: true });
    await arrived(client, (e) => e.type === 'RUN_FINISHED', 'RUN_FINISHED');
    const got = runEvents(client);
    expect(got.at(-1)).toMatchObject({ runId: 'gen-run', outcome: { type: 'cancelled' } });
    expect(got.at(-2)).toMatchObject({ type: 'TEXT_MESSAGE_END', messageId: 'm' });
    await expect.poll(() => stoppedAt >= 0, { timeout: 2000, message: 'the generator to be returned' }).toBe(true);
    expect(stoppedAt).toBeLessThan(1000);
  });

  test('a source that fails or ends mid-run ends the run with RUN_ERROR', async () => {
    const { agent, client } = await stack();
    async function* broken(): AsyncGenerator<BaseEvent> {
      yield { type: EventType.RUN_STARTED, threadId: 't', runId: 'bad' } as BaseEvent;
      throw new Error('model exploded');
    }
    await streamAgUi(agent, client.id, broken());
    await arrived(client, (e) => e.type === 'RUN_ERROR', 'RUN_ERROR');
    expect(runEvents(client).at(-1)).toMatchObject({ runId: 'bad', message: 'model exploded', code: 'source_failed' });
  });
});
