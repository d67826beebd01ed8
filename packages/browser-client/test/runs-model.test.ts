// The run model on its own: frames in, RunViews and typed events out; cancel/answer frames out.
import { EventType } from '@ag-ui/core';
import { ClientCancelFrame, OffsetTracker, coalesce, type SeqFrame } from '@agent-bridge/common/protocol';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { RunModel, type DeliveredMessageFrame, type RunClient, type RunEvents } from '../src/index.ts';

class FakeClient implements RunClient {
  private fns: ((f: DeliveredMessageFrame) => void)[] = [];
  sent: { data: unknown; opts?: { agent?: string } }[] = [];
  frames: Record<string, unknown>[] = [];
  on(_event: 'message', fn: (f: DeliveredMessageFrame) => void) {
    this.fns.push(fn);
    return () => (this.fns = this.fns.filter((f) => f !== fn));
  }
  send(data: unknown, opts?: { agent?: string }) {
    this.sent.push({ data, ...(opts ? { opts } : {}) });
    return `c-${this.sent.length}`;
  }
  sendFrame(frame: { type: string } & Record<string, unknown>) {
    const id = `c-f${this.frames.length + 1}`;
    this.frames.push({ ...frame, id });
    return id;
  }
  deliver(f: SeqFrame) {
    for (const fn of this.fns) fn(f as unknown as DeliveredMessageFrame);
  }
}

/** Frames seq 1.. of one agent for these events (offsets stamped as the SDK / bridge do). */
function framesOf(events: Record<string, unknown>[], from = 'default', runId = 'r1'): SeqFrame[] {
  const t = new OffsetTracker();
  return events.map((e, i) => ({ type: 'message', seq: i + 1, id: `id-${i + 1}`, from, ts: '', data: t.stamp({ runId, threadId: 'th', ...e }) }));
}

const started = { type: EventType.RUN_STARTED };
const start = (messageId = 'm') => ({ type: EventType.TEXT_MESSAGE_START, messageId, role: 'assistant' });
const content = (delta: string, messageId = 'm') => ({ type: EventType.TEXT_MESSAGE_CONTENT, messageId, delta });
const end = (messageId = 'm') => ({ type: EventType.TEXT_MESSAGE_END, messageId });

function setup() {
  const client = new FakeClient();
  const model = new RunModel(client);
  const seen: { [K in keyof RunEvents]?: RunEvents[K][] } = {};
  for (const k of ['update', 'started', 'ended', 'text', 'tool', 'interrupt', 'event'] as const) {
    model.on(k, (p) => ((seen[k] ??= []) as unknown[]).push(p));
  }
  return { client, model, seen };
}

describe('run model', () => {
  test('a streamed message, a tool call with streamed args and a result, state, and the end', () => {
    const { client, model, seen } = setup();
    const frames = framesOf([
      started,
      start(),
      content('Hel'),
      content('lo 😀'),
      end(),
      { type: EventType.TOOL_CALL_START, toolCallId: 't', toolCallName: 'search', parentMessageId: 'm' },
      { type: EventType.TOOL_CALL_ARGS, toolCallId: 't', delta: '{"q":' },
      { type: EventType.TOOL_CALL_ARGS, toolCallId: 't', delta: '"x"}' },
      { type: EventType.TOOL_CALL_END, toolCallId: 't' },
      { type: EventType.TOOL_CALL_RESULT, toolCallId: 't', messageId: 'r', content: 'found', role: 'tool' },
      { type: EventType.STATE_SNAPSHOT, snapshot: { n: 1, list: [1] } },
      { type: EventType.STATE_DELTA, delta: [{ op: 'replace', path: '/n', value: 2 }, { op: 'add', path: '/list/-', value: 2 }] },
      { type: EventType.CUSTOM, name: 'progress', value: 1 },
      { type: EventType.RUN_FINISHED, outcome: { type: 'success' }, result: 42 },
    ]);
    for (const f of frames) client.deliver(f);
    const run = model.get('r1')!;
    expect(run).toMatchObject({ runId: 'r1', threadId: 'th', agent: 'default', status: 'finished', result: 42, state: { n: 2, list: [1, 2] }, lastSeq: 14 });
    expect(run.items).toEqual([
      { kind: 'message', id: 'm', role: 'assistant', text: 'Hello 😀', streaming: false },
      { kind: 'tool', id: 't', name: 'search', args: '{"q":"x"}', status: 'done', result: 'found', parentMessageId: 'm' },
    ]);
    expect(seen.started).toHaveLength(1);
    expect(seen.ended!.map((r) => r.status)).toEqual(['finished']);
    expect(seen.text!.map((t) => t.added)).toEqual(['Hel', 'lo 😀']);
    expect(seen.tool!.map((t) => t.toolCall.status)).toEqual(['streaming', 'streaming', 'streaming', 'called', 'done']);
    expect(seen.event!.map((e) => e.event.type)).toEqual(['CUSTOM']);
    expect(seen.update).toHaveLength(frames.length);
    expect(model.active()).toEqual([]);
  });

  test('messages that are not run events are ignored; a replayed seq is not applied twice', () => {
    const { client, model } = setup();
    client.deliver({ type: 'message', seq: 1, from: 'default', data: { text: 'hi' } });
    client.deliver({ type: 'message', seq: 2, from: 'default', data: { type: 'TEXT_MESSAGE_CONTENT', delta: 'no runId' } });
    expect(model.runs.size).toBe(0);
    const [f1, f2] = framesOf([start(), content('abc')]).map((f) => ({ ...f, seq: f.seq + 2 }));
    client.deliver(f1!);
    client.deliver(f2!);
    client.deliver(f2!);
    expect(model.get('r1')!.items[0]).toMatchObject({ text: 'abc', streaming: true });
    expect(model.active().map((r) => r.runId)).toEqual(['r1']);
  });

  test('any split, any coalescing by the bridge, any resume point: the message text is exact', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary', maxLength: 6 }), { maxLength: 30 }), fc.nat(), fc.nat(), (deltas, cut, mergeFrom) => {
        const { client, model } = setup();
        const frames = framesOf([started, start(), ...deltas.map((d) => content(d)), end()]);
        // Live up to a point, then the bridge's coalesced buffer replays from after it.
        const k = cut % (frames.length + 1);
        for (const f of frames.slice(0, k)) client.deliver(f);
        const from = Math.min(mergeFrom % (frames.length + 1), k);
        const buffer = [...frames.slice(0, from), ...coalesce(frames.slice(from))];
        for (const f of buffer) client.deliver(f);
        expect(model.get('r1')!.items[0]).toMatchObject({ text: deltas.join(''), streaming: false });
      }),
      { numRuns: 300 },
    );
  });

  test('an interrupt is pending until answered; answer() sends an AG-UI resume to the run’s agent', () => {
    const { client, model, seen } = setup();
    const frames = framesOf(
      [
        started,
        { type: EventType.RUN_FINISHED, outcome: { type: 'interrupt', interrupts: [{ id: 'i1', reason: 'approval', message: 'Pay 5?' }] } },
      ],
      'trader',
    );
    for (const f of frames) client.deliver(f);
    expect(model.get('r1')!.status).toBe('interrupted');
    const [pending] = model.pendingInterrupts();
    expect(pending).toEqual({ id: 'i1', reason: 'approval', message: 'Pay 5?', runId: 'r1', threadId: 'th', agent: 'trader' });
    expect(seen.interrupt).toEqual([pending]);
    model.answer(pending!, { approved: true }, { runId: 'r2' });
    expect(client.sent).toEqual([
      {
        data: { threadId: 'th', runId: 'r2', parentRunId: 'r1', messages: [], tools: [], context: [], resume: [{ interruptId: 'i1', status: 'resolved', payload: { approved: true } }] },
        opts: { agent: 'trader' },
      },
    ]);
    expect(model.pendingInterrupts()).toEqual([]);
    // The continuation links back to the interrupted run.
    client.deliver({ type: 'message', seq: 3, id: 'x', from: 'trader', ts: '', data: { type: EventType.RUN_STARTED, runId: 'r2', threadId: 'th', parentRunId: 'r1' } });
    expect(model.get('r2')).toMatchObject({ status: 'running', parentRunId: 'r1' });

  });

  test('a tool result in the continuation run completes the tool card of the run that asked', () => {
    const { client, model, seen } = setup();
    for (const f of framesOf([
      started,
      { type: EventType.TOOL_CALL_START, toolCallId: 't', toolCallName: 'pay' },
      { type: EventType.TOOL_CALL_END, toolCallId: 't' },
      { type: EventType.RUN_FINISHED, outcome: { type: 'interrupt', interrupts: [{ id: 'i', reason: 'approval', toolCallId: 't' }] } },
    ])) client.deliver(f);
    const more = [
      { type: EventType.RUN_STARTED, parentRunId: 'r1' },
      { type: EventType.TOOL_CALL_RESULT, toolCallId: 't', messageId: 'x', content: [{ type: 'text', text: 'paid' }], role: 'tool' },
    ];
    more.forEach((e, i) => client.deliver({ type: 'message', seq: 5 + i, id: `n${i}`, from: 'default', ts: '', data: { runId: 'r2', threadId: 'th', ...e } }));
    expect(model.get('r1')!.items).toEqual([{ kind: 'tool', id: 't', name: 'pay', args: '', status: 'done', result: 'paid' }]);
    expect(model.get('r2')!.items).toEqual([]);
    expect(seen.tool!.at(-1)!.toolCall).toMatchObject({ id: 't', status: 'done' });
  });

  test('a continuation clears its parent’s interrupts even when another tab answered', () => {
    const { client, model } = setup();
    for (const f of framesOf([started, { type: EventType.RUN_FINISHED, outcome: { type: 'interrupt', interrupts: [{ id: 'i', reason: 'approval' }] } }])) client.deliver(f);
    expect(model.pendingInterrupts()).toHaveLength(1);
    client.deliver({ type: 'message', seq: 3, id: 'x', from: 'default', ts: '', data: { type: EventType.RUN_STARTED, runId: 'r9', threadId: 'th', parentRunId: 'r1' } });
    expect(model.pendingInterrupts()).toEqual([]);
  });

  test('cancel() sends a §9 cancel frame naming the run’s agent; the run ends when the agent says cancelled', () => {
    const { client, model } = setup();
    for (const f of framesOf([started, start(), content('partial')], 'trader')) client.deliver(f);
    const id = model.cancel('r1');
    expect(client.frames).toEqual([{ type: 'cancel', runId: 'r1', agent: 'trader', id }]);
    expect(ClientCancelFrame.safeParse(client.frames[0]).success).toBe(true);
    model.cancel('unknown-run');
    expect(client.frames[1]).toEqual({ type: 'cancel', runId: 'unknown-run', id: 'c-f2' });
    client.deliver({ type: 'message', seq: 4, id: 'x', from: 'trader', ts: '', data: { type: EventType.RUN_FINISHED, runId: 'r1', threadId: 'th', outcome: { type: 'cancelled' } } });
    expect(model.get('r1')).toMatchObject({ status: 'cancelled', items: [{ text: 'partial', streaming: false }] });
  });

  test('RUN_ERROR ends the run with its message and code; content before its START still shows', () => {
    const { client, model } = setup();
    for (const f of framesOf([content('mid-'), content('stream'), { type: EventType.RUN_ERROR, message: 'boom', code: 'x' }])) client.deliver(f);
    expect(model.get('r1')).toMatchObject({ status: 'error', error: { message: 'boom', code: 'x' }, items: [{ text: 'mid-stream' }] });
  });
});
