/**
 * The run model through the real broker and web server: a raw agent streams AG-UI events, the
 * browser client (Node's ws, in-memory storage) assembles them, across a reconnect, and answers
 * an interrupt; its cancel reaches the agent as client.cancel.
 */
import { EventType } from '@ag-ui/core';
import { connectRawAgent, startStack, type Stack, type TestSocket } from '@agent-bridge/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RunModel, createBridgeClient, type BridgeClient, type RunView } from '../src/index.ts';
import { MemoryStorage, NodeWebSocket, waitFor } from './helpers.ts';

let stack: Stack;
let agent: TestSocket;
const closers: (() => void)[] = [];

beforeAll(async () => {
  stack = await startStack({ agent: false, env: { HEARTBEAT_INTERVAL_MS: '100', HEARTBEAT_TIMEOUT_MS: '800', SESSION_TTL_MS: '15000' } });
  agent = await connectRawAgent(stack.brokerUrl);
  await agent.next('welcome');
}, 30_000);

afterEach(() => {
  for (const c of closers.splice(0)) c();
});

afterAll(async () => {
  agent?.close();
  await stack?.close();
});

async function connected(): Promise<{ client: BridgeClient; runs: RunModel; clientId: string }> {
  const client = createBridgeClient({ baseUrl: stack.webUrl, storage: new MemoryStorage(), WebSocketImpl: NodeWebSocket, backoff: { initialMs: 50, maxMs: 200 } });
  closers.push(() => client.close());
  const runs = new RunModel(client);
  const welcome = await waitFor(client, 'welcome');
  return { client, runs, clientId: welcome.clientId };
}

let n = 0;
/** The raw agent sends these run events to the client (one `send` each, with an id so order is checkable). */
function stream(to: string, runId: string, events: Record<string, unknown>[]): void {
  for (const e of events) agent.send({ type: 'send', id: `a-${++n}`, to, data: { runId, threadId: 'th', ...e } });
}

function until(runs: RunModel, pred: (r: RunView | undefined) => boolean, runId: string): Promise<RunView> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out; run is ${JSON.stringify(runs.get(runId))}`)), 5000);
    const check = () => {
      const r = runs.get(runId);
      if (!pred(r)) return;
      clearTimeout(t);
      off();
      resolve(r!);
    };
    const off = runs.on('update', check);
    check();
  });
}

describe('runs through the bridge', () => {
  it('assembles a streamed reply across a reconnect (replay), then an approval round trip', async () => {
    const { client, runs, clientId } = await connected();
    stream(clientId, 'r1', [
      { type: EventType.RUN_STARTED },
      { type: EventType.TEXT_MESSAGE_START, messageId: 'm', role: 'assistant' },
      { type: EventType.TEXT_MESSAGE_CONTENT, messageId: 'm', delta: 'Once ', offset: 0 },
    ]);
    await until(runs, (r) => (r?.items[0] as { text?: string } | undefined)?.text === 'Once ', 'r1');
    // A reload-like drop: the session stays, the reply goes on and waits in the resume buffer.
    client.suspend();
    stream(clientId, 'r1', [
      { type: EventType.TEXT_MESSAGE_CONTENT, messageId: 'm', delta: 'upon a ', offset: 5 },
      { type: EventType.TEXT_MESSAGE_CONTENT, messageId: 'm', delta: 'time 🐉', offset: 12 },
      { type: EventType.TEXT_MESSAGE_END, messageId: 'm' },
      { type: EventType.TOOL_CALL_START, toolCallId: 't', toolCallName: 'pay' },
      { type: EventType.TOOL_CALL_ARGS, toolCallId: 't', delta: '{"amount":5}', offset: 0 },
      { type: EventType.TOOL_CALL_END, toolCallId: 't' },
      { type: EventType.RUN_FINISHED, outcome: { type: 'interrupt', interrupts: [{ id: 'i1', reason: 'approval', toolCallId: 't', message: 'Pay 5?' }] } },
    ]);
    client.connect();
    const welcome = await waitFor(client, 'welcome');
    expect(welcome.resumed).toBe(true);
    const run = await until(runs, (r) => r?.status === 'interrupted', 'r1');
    expect(run.items).toEqual([
      { kind: 'message', id: 'm', role: 'assistant', text: 'Once upon a time 🐉', streaming: false },
      { kind: 'tool', id: 't', name: 'pay', args: '{"amount":5}', status: 'called' },
    ]);
    const [pending] = runs.pendingInterrupts();
    expect(pending).toMatchObject({ id: 'i1', agent: 'default', message: 'Pay 5?' });
    runs.answer(pending!, { approved: true }, { runId: 'r2' });
    const msg = await agent.next((f) => f.type === 'client.message' && f.clientId === clientId);
    expect(msg).toMatchObject({
      address: null,
      data: { threadId: 'th', runId: 'r2', parentRunId: 'r1', resume: [{ interruptId: 'i1', status: 'resolved', payload: { approved: true } }] },
    });
    stream(clientId, 'r2', [
      { type: EventType.RUN_STARTED, parentRunId: 'r1' },
      { type: EventType.TOOL_CALL_RESULT, toolCallId: 't', messageId: 'x', content: 'paid', role: 'tool' },
      { type: EventType.RUN_FINISHED, outcome: { type: 'success' } },
    ]);
    await until(runs, (r) => r?.status === 'finished', 'r2');
    expect(runs.pendingInterrupts()).toEqual([]);
    // The result lands on the tool card of the run that asked.
    expect(runs.get('r1')!.items[1]).toMatchObject({ kind: 'tool', id: 't', status: 'done', result: 'paid' });
  });

  it("cancel(runId) reaches the run's agent as client.cancel", async () => {
    const { client, runs, clientId } = await connected();
    stream(clientId, 'rc', [{ type: EventType.RUN_STARTED }]);
    await until(runs, (r) => r?.status === 'running', 'rc');
    const errors: { code: string; ref?: string }[] = [];
    client.on('error', (e) => errors.push(e));
    const id = runs.cancel('rc');
    expect(id).toMatch(/^c-\d+$/);
    // The broker routes it to the run's agent (the one that streamed `rc`) as client.cancel.
    const routed = await agent.next((f) => f.type === 'client.cancel' && f.clientId === clientId);
    expect(routed).toMatchObject({ runId: 'rc', address: null });
    expect(errors.filter((e) => e.ref === id)).toEqual([]);
  });
});
