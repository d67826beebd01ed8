// The run writer against a raw ws server playing the broker: the exact AG-UI events sent, batching,
// client.cancel and interrupt answers (frames the broker only routes from the next phase on).
import { EventType } from '@ag-ui/core';
import { EventSchemas } from '@ag-ui/core/schemas';
import type { TestSocket } from '@agent-bridge/testkit';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { connectAgent, type Agent } from '../src/index.ts';
import { FAST_BACKOFF, FakeBridge, nextEvent, record, silent, sleep } from './helpers.ts';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
});

async function setup(): Promise<{ agent: Agent; sock: TestSocket }> {
  const b = await new FakeBridge().start();
  cleanup.push(() => b.stop());
  const agent = connectAgent({ url: b.url, token: 'dev_token', logger: silent, backoff: FAST_BACKOFF });
  cleanup.push(() => agent.close());
  const welcomed = nextEvent(agent, 'welcome');
  const sock = await b.welcomed(0, [{ clientId: 'c1', address: null }, { clientId: 'c2', address: null }]);
  await welcomed;
  return { agent, sock };
}

/** Run events the fake bridge got (the `data` of `send` frames, markers left out), in order. */
const events = (sock: TestSocket) => sock.all('send').map((f) => f.data as Record<string, any>).filter((d) => d?.marker === undefined);
/**
 * A plain `send` after everything so far, awaited at the bridge: whatever the agent wrote before it
 * (on the same socket) has arrived, so an absence checked after it is real — no sleep.
 */
async function marker(agent: Agent, sock: TestSocket, name: string): Promise<void> {
  agent.send('c1', { marker: name });
  await vi.waitFor(() => expect(sock.all('send').some((f) => (f.data as { marker?: string } | undefined)?.marker === name)).toBe(true), { timeout: 3000 });
}
const types = (sock: TestSocket) => events(sock).map((e) => e.type);
const until = (sock: TestSocket, type: string) => expect.poll(() => types(sock).includes(type), { timeout: 3000, message: type }).toBe(true);

const cancel = (runId: string, clientId = 'c1') => ({ type: 'client.cancel', clientId, address: null, runId, ts: new Date().toISOString() });
const answer = (interruptId: string, payload: unknown, extra: Record<string, unknown> = {}) => ({
  type: 'client.message',
  id: `m-${interruptId}`,
  clientId: 'c1',
  address: '0xAbC',
  ts: new Date().toISOString(),
  data: { threadId: 't1', runId: 'r-next', messages: [], tools: [], context: [], resume: [{ interruptId, status: 'resolved', payload }], ...extra },
});

describe('run writer: events', () => {
  test('text, reasoning, a streamed tool call, state and finish: AG-UI events with runId/threadId, valid per @ag-ui/core', async () => {
    const { agent, sock } = await setup();
    const run = agent.run({ clientId: 'c1' }, { threadId: 't1', runId: 'r1', batchMs: 0 });
    run.reasoning('let me think');
    run.text('Hello');
    run.text(' world');
    const tool = run.toolCall('search', undefined, { toolCallId: 'tc1' });
    tool.args('{"q":');
    tool.args('"cats"}');
    tool.result({ hits: 3 });
    run.state({ count: 1 });
    run.state([{ op: 'replace', path: '/count', value: 2 }]);
    run.custom('progress', 50);
    run.text('Done.');
    run.finish({ ok: true });
    await until(sock, EventType.RUN_FINISHED);
    const evs = events(sock);
    expect(evs.map((e) => e.type)).toEqual([
      'RUN_STARTED',
      'REASONING_START',
      'REASONING_MESSAGE_START',
      'REASONING_MESSAGE_CONTENT',
      'REASONING_MESSAGE_END',
      'REASONING_END',
      'TEXT_MESSAGE_START',
      'TEXT_MESSAGE_CONTENT',
      'TEXT_MESSAGE_CONTENT',
      'TEXT_MESSAGE_END',
      'TOOL_CALL_START',
      'TOOL_CALL_ARGS',
      'TOOL_CALL_ARGS',
      'TOOL_CALL_END',
      'TOOL_CALL_RESULT',
      'STATE_SNAPSHOT',
      'STATE_DELTA',
      'CUSTOM',
      'TEXT_MESSAGE_START',
      'TEXT_MESSAGE_CONTENT',
      'TEXT_MESSAGE_END',
      'RUN_FINISHED',
    ]);
    for (const e of evs) {
      expect(e).toMatchObject({ runId: 'r1', threadId: 't1' });
      expect(EventSchemas.safeParse(e).success).toBe(true);
    }
    expect(sock.all('send').every((f) => f.to === 'c1')).toBe(true);
    const [first, second] = evs.filter((e) => e.type === 'TEXT_MESSAGE_CONTENT');
    expect(first).toMatchObject({ delta: 'Hello', offset: 0 });
    expect(second).toMatchObject({ delta: ' world', offset: 5, messageId: first!.messageId });
    expect(evs.find((e) => e.type === 'TOOL_CALL_START')).toMatchObject({ toolCallId: 'tc1', toolCallName: 'search' });
    expect(evs.filter((e) => e.type === 'TOOL_CALL_ARGS').map((e) => [e.delta, e.offset])).toEqual([
      ['{"q":', 0],
      ['"cats"}', 5],
    ]);
    expect(evs.find((e) => e.type === 'TOOL_CALL_RESULT')).toMatchObject({ toolCallId: 'tc1', content: '{"hits":3}', role: 'tool' });
    expect(evs.find((e) => e.type === 'STATE_DELTA')!.delta).toEqual([{ op: 'replace', path: '/count', value: 2 }]);
    expect(evs.at(-1)).toMatchObject({ outcome: { type: 'success' }, result: { ok: true } });
    // Ended: later calls send nothing.
    run.text('late');
    run.finish();
    await marker(agent, sock, 'after-end');
    expect(events(sock)).toHaveLength(evs.length);
    expect(agent.runs.has('r1')).toBe(false);
  });

  test('toolCall(name, args) sends the arguments at once and ends the call; error() ends the run with RUN_ERROR', async () => {
    const { agent, sock } = await setup();
    const run = agent.run(['c1', 'c2'], { runId: 'r2', batchMs: 0 });
    run.text('trying');
    run.toolCall('lookup', { id: 7 }, { toolCallId: 'tc' });
    run.error('the tool failed', 'tool_failed');
    await until(sock, EventType.RUN_ERROR);
    expect(types(sock)).toEqual([
      'RUN_STARTED',
      'TEXT_MESSAGE_START',
      'TEXT_MESSAGE_CONTENT',
      'TEXT_MESSAGE_END',
      'TOOL_CALL_START',
      'TOOL_CALL_ARGS',
      'TOOL_CALL_END',
      'RUN_ERROR',
    ]);
    expect(events(sock).find((e) => e.type === 'TOOL_CALL_ARGS')!.delta).toBe('{"id":7}');
    expect(events(sock).at(-1)).toMatchObject({ message: 'the tool failed', code: 'tool_failed', runId: 'r2' });
    expect(sock.all('send')[0]!.to).toEqual(['c1', 'c2']);
  });
});

describe('run writer: batching', () => {
  test('a fast model is not a frame per token: ≤ 1 frame per stream per 20 ms, the first token at once, the text exact', async () => {
    const { agent, sock } = await setup();
    const run = agent.run('c1', { runId: 'rb' });
    const tokens = Array.from({ length: 200 }, (_, i) => `t${i}😀 `);
    const started = performance.now();
    run.text(tokens[0]!);
    // The first delta is not held back.
    await expect.poll(() => types(sock).includes('TEXT_MESSAGE_CONTENT'), { timeout: 1000, message: 'first token' }).toBe(true);
    for (const t of tokens.slice(1)) {
      run.text(t);
      await sleep(1);
    }
    run.finish();
    await until(sock, EventType.RUN_FINISHED);
    const elapsed = performance.now() - started;
    const contents = events(sock).filter((e) => e.type === 'TEXT_MESSAGE_CONTENT');
    expect(contents.map((e) => e.delta).join('')).toBe(tokens.join(''));
    expect(contents.length).toBeLessThan(tokens.length / 3);
    expect(contents.length).toBeLessThanOrEqual(Math.ceil(elapsed / 20) + 2);
    let offset = 0;
    for (const c of contents) {
      expect(c.offset).toBe(offset);
      offset += c.delta.length;
    }
  });

  test('batchMs 0 sends every delta as it comes', async () => {
    const { agent, sock } = await setup();
    const run = agent.run('c1', { batchMs: 0 });
    for (const t of ['a', 'b', 'c']) run.text(t);
    run.finish();
    await until(sock, EventType.RUN_FINISHED);
    expect(events(sock).filter((e) => e.type === 'TEXT_MESSAGE_CONTENT').map((e) => e.delta)).toEqual(['a', 'b', 'c']);
  });
});

describe('run writer: cancel', () => {
  test('client.cancel from a client of the run aborts its signal and ends it with outcome cancelled; others are ignored', async () => {
    const { agent, sock } = await setup();
    const run = agent.run('c1', { runId: 'rc', threadId: 't' });
    const seen = record(agent, ['client.cancel']);
    run.text('partial');
    sock.send(cancel('rc', 'c2')); // not a client of this run
    sock.send(cancel('other-run'));
    await expect.poll(() => seen.length === 2, { timeout: 2000, message: 'two client.cancel events' }).toBe(true);
    expect(run.signal.aborted).toBe(false);
    sock.send(cancel('rc'));
    await expect.poll(() => run.signal.aborted, { timeout: 2000, message: 'abort' }).toBe(true);
    expect(run.signal.reason).toMatchObject({ name: 'AbortError', clientId: 'c1' });
    expect(run.done).toBe(true);
    await until(sock, EventType.RUN_FINISHED);
    // The first delta went at once (leading edge); the ends keep the client's view well-formed.
    expect(types(sock)).toEqual(['RUN_STARTED', 'TEXT_MESSAGE_START', 'TEXT_MESSAGE_CONTENT', 'TEXT_MESSAGE_END', 'RUN_FINISHED']);
    expect(events(sock).at(-1)).toMatchObject({ runId: 'rc', outcome: { type: 'cancelled' } });
    // A new text message would go at once (leading edge), so before the marker.
    run.text('after cancel');
    await marker(agent, sock, 'after-cancel');
    expect(types(sock)).toHaveLength(5);
  });
});

describe('run writer: interrupts (approval)', () => {
  test('interrupt ends the run with an interrupt outcome; the client’s resume answer continues it in the client’s new run', async () => {
    const { agent, sock } = await setup();
    const messages = record(agent, ['message']);
    const run = agent.run('c1', { runId: 'r1', threadId: 't1', batchMs: 0 });
    run.text('May I?');
    const tool = run.toolCall('transfer', { amount: 5 }, { toolCallId: 'tc' });
    const answered = run.interrupt({ id: 'i1', message: 'Transfer 5?', toolCallId: tool.toolCallId, timeoutMs: 5000 });
    await until(sock, EventType.RUN_FINISHED);
    const fin = events(sock).at(-1)!;
    expect(fin).toMatchObject({ runId: 'r1', outcome: { type: 'interrupt', interrupts: [{ id: 'i1', reason: 'approval', message: 'Transfer 5?', toolCallId: 'tc' }] } });
    expect(EventSchemas.safeParse(fin).success).toBe(true);
    sock.send(answer('i1', { approved: true }));
    const a = await answered;
    expect(a).toEqual({ status: 'resolved', payload: { approved: true }, clientId: 'c1', address: '0xAbC', interruptId: 'i1' });
    expect(run.runId).toBe('r-next');
    tool.result('sent');
    run.finish();
    await expect.poll(() => types(sock).filter((t) => t === 'RUN_FINISHED').length === 2, { timeout: 2000, message: 'second RUN_FINISHED' }).toBe(true);
    const after = events(sock).slice(events(sock).indexOf(fin) + 1);
    expect(after.map((e) => e.type)).toEqual(['RUN_STARTED', 'TOOL_CALL_RESULT', 'RUN_FINISHED']);
    expect(after[0]).toMatchObject({ runId: 'r-next', parentRunId: 'r1', threadId: 't1' });
    expect(after.every((e) => e.runId === 'r-next')).toBe(true);
    // The answer was the run's, not a message for the app.
    expect(messages).toHaveLength(0);
    // An answer nobody waits for is an ordinary message.
    sock.send(answer('i1', { approved: true }));
    await expect.poll(() => messages.length === 1, { timeout: 2000, message: 'late answer as a message' }).toBe(true);
  });

  test('no answer in time: status timeout, and the SDK starts the continuation itself', async () => {
    const { agent, sock } = await setup();
    const run = agent.run('c1', { runId: 'r1', batchMs: 0 });
    const a = await run.interrupt({ id: 'i2', timeoutMs: 50 });
    expect(a).toEqual({ status: 'timeout', interruptId: 'i2' });
    expect(run.runId).not.toBe('r1');
    run.text('No answer, so I did nothing.');
    run.finish();
    await expect.poll(() => types(sock).filter((t) => t === 'RUN_FINISHED').length === 2, { timeout: 2000, message: 'RUN_FINISHED twice' }).toBe(true);
    expect(events(sock).find((e) => e.type === 'RUN_STARTED' && e.parentRunId === 'r1')).toMatchObject({ runId: run.runId });
  });

  test('a cancel while the interrupt waits: aborted, and nothing more is sent; an answer from another client is not taken', async () => {
    const { agent, sock } = await setup();
    const run = agent.run('c1', { runId: 'r1', batchMs: 0 });
    const pending = run.interrupt({ id: 'i3', timeoutMs: 5000 });
    await until(sock, EventType.RUN_FINISHED);
    // Frames are handled in order: were c2's answer taken, `pending` would settle with it before the cancel.
    sock.send({ ...answer('i3', { approved: true }), clientId: 'c2' });
    sock.send(cancel('r1'));
    expect(await pending).toEqual({ status: 'aborted', interruptId: 'i3' });
    expect(run.done).toBe(true);
    await marker(agent, sock, 'after-abort');
    expect(types(sock)).toEqual(['RUN_STARTED', 'RUN_FINISHED']);
  });
});
