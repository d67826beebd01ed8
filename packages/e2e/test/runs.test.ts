// Agent runs through the real processes (broker + web server at their default buffer bounds) with
// the agent SDK's run writer: a 10,000-delta reply to a browser that is away for all of it, and an
// approval round trip followed by Stop. (The SDK is imported by path: e2e does not depend on it.)
import { createLogger, TextAssembler } from '@agent-bridge/common';
import { connectBrowser, registerClient, startStack, type Frame, type Stack, type TestSocket } from '@agent-bridge/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAgent, type Agent } from '../../agent-sdk/src/index.ts';

let stack: Stack;
let agent: Agent;

beforeAll(async () => {
  stack = await startStack({ agent: false, env: { HEARTBEAT_INTERVAL_MS: '100', HEARTBEAT_TIMEOUT_MS: '800', SESSION_TTL_MS: '15000' } });
  // outboxLimit: one test writes a 10,000-delta run in one turn, and with §8 acks every frame is
  // held until the broker answers accepted (outbox_full beyond the bound).
  agent = connectAgent({ url: stack.brokerUrl, token: 'dev_token', outboxLimit: 20_000, logger: createLogger('test', { level: 'silent' }) });
  await new Promise<void>((resolve) => agent.once('welcome', () => resolve()));
}, 30_000);

afterAll(async () => {
  await agent?.close();
  await stack?.close();
});

const agentEvent = <T>(name: string, pred: (e: T) => boolean): Promise<T> =>
  new Promise((resolve) => {
    const on = (e: T) => {
      if (!pred(e)) return;
      agent.off(name as never, on as never);
      resolve(e);
    };
    agent.on(name as never, on as never);
  });

/** Run events a browser received (message data), in order. */
const events = (b: TestSocket) => b.all('message').map((f) => f.data as Record<string, any>);

describe('runs through the bridge', () => {
  it('a browser away for a whole 10,000-delta reply (SDK writer, batching off) resumes with resumed:true and the exact text', async () => {
    const session = await registerClient(stack.webUrl);
    const browser = await connectBrowser(stack.webUrl, session);
    const welcome = await browser.next('welcome');
    const observer = await registerClient(stack.webUrl);
    const watch = await connectBrowser(stack.webUrl, observer);
    await watch.next('welcome');
    const gone = agentEvent<{ clientId: string }>('client.disconnected', (e) => e.clientId === session.clientId);
    browser.ws.terminate();
    await gone;

    const deltas = Array.from({ length: 10_000 }, (_, i) => (i % 97 === 0 ? '🐉'[0]! : i % 97 === 1 ? `${'🐉'[1]!} ` : `w${i % 13} `));
    const run = agent.run(session.clientId, { threadId: 'th-long', batchMs: 0 });
    for (const d of deltas) run.text(d);
    run.finish();
    // The same socket carries a frame to a bystander after the run: once it arrives, the broker
    // has handled the whole run.
    agent.send(observer.clientId, { text: 'after the run' });
    await watch.next((f) => f.type === 'message' && f.data?.text === 'after the run', 20_000);

    const back = await connectBrowser(stack.webUrl, session, { lastSeq: welcome.lastSeq, epoch: welcome.epoch });
    const again = await back.next('welcome');
    expect(again.resumed).toBe(true);
    const replay: Frame[] = [];
    for (let i = 0; i < again.replayed; i++) replay.push(await back.next('message'));
    const text = new TextAssembler();
    for (const f of replay) if (f.data?.type === 'TEXT_MESSAGE_CONTENT') text.apply(f.data, f.data.messageId);
    const messageId = replay.find((f) => f.data?.type === 'TEXT_MESSAGE_START')!.data.messageId;
    expect(text.text(messageId)).toBe(deltas.join(''));
    expect(replay.at(-1)!.data).toMatchObject({ type: 'RUN_FINISHED', runId: run.runId });
    const bytes = replay.reduce((n, f) => n + Buffer.byteLength(JSON.stringify(f)), 0);
    console.info(`SDK 10,000-delta reply through the web server: replayed ${again.replayed} frames, ~${bytes} bytes`);
    expect(again.replayed).toBeLessThan(30);
    back.close(1000);
    watch.close(1000);
  }, 60_000);

  it('an approval round trip, then Stop: the answer reaches the SDK with the address, the continuation streams, cancel aborts it', async () => {
    const session = await registerClient(stack.webUrl);
    const browser = await connectBrowser(stack.webUrl, session);
    await browser.next('welcome');
    const run = agent.run(session.clientId, { threadId: 'th-pay' });
    const tool = run.toolCall('pay', { amount: 5 });
    const answered = run.interrupt({ message: 'Pay 5?', toolCallId: tool.toolCallId });
    const fin = await browser.next((f) => f.type === 'message' && f.data?.type === 'RUN_FINISHED', 5000);
    const [interrupt] = fin.data.outcome.interrupts;
    expect(interrupt).toMatchObject({ reason: 'approval', message: 'Pay 5?', toolCallId: tool.toolCallId });

    browser.send({
      type: 'message',
      id: 'c-answer',
      data: {
        threadId: 'th-pay',
        runId: 'r-continue',
        parentRunId: fin.data.runId,
        messages: [],
        tools: [],
        context: [],
        resume: [{ interruptId: interrupt.id, status: 'resolved', payload: { approved: true } }],
      },
    });
    const answer = await answered;
    expect(answer).toMatchObject({ status: 'resolved', payload: { approved: true }, clientId: session.clientId, address: null });
    tool.result('paid');
    const started = await browser.next((f) => f.type === 'message' && f.data?.type === 'RUN_STARTED' && f.data.runId === 'r-continue');
    expect(started.data.parentRunId).toBe(fin.data.runId);

    // Stop the continuation: the broker knows its agent from the events it carried.
    run.text('working on it');
    await browser.next((f) => f.type === 'message' && f.data?.type === 'TEXT_MESSAGE_CONTENT');
    browser.send({ type: 'cancel', runId: 'r-continue', id: 'c-stop' });
    await new Promise<void>((resolve) => (run.signal.aborted ? resolve() : run.signal.addEventListener('abort', () => resolve())));
    const end = await browser.next((f) => f.type === 'message' && f.data?.type === 'RUN_FINISHED' && f.data.runId === 'r-continue');
    expect(end.data.outcome).toEqual({ type: 'cancelled' });
    expect(events(browser).find((e) => e.type === 'TOOL_CALL_RESULT')).toMatchObject({ toolCallId: tool.toolCallId, content: 'paid' });
    expect(browser.all('error')).toEqual([]);
    browser.close(1000);
  });
});
