// The demo's run commands against the SDK's real run writer, with a host that records what would be sent.
import { EventType } from '@ag-ui/core';
import { RunRegistry, RunWriter, type RunHost, type RunOptions, type RunTarget } from '@agent-bridge/agent-sdk';
import { describe, expect, test } from 'vitest';
import { HELP_TEXT } from '../src/commands.ts';
import { RUN_HELP_LINES, STORY, chatAnswer, fakeForecast, handleRunMessage, runRequestFor } from '../src/runs.ts';

function host() {
  const sent: { to: string | string[]; data: Record<string, any> }[] = [];
  const h: RunHost = {
    send: (to, data) => {
      sent.push({ to, data: data as Record<string, any> });
      return `a-${sent.length}`;
    },
    runs: new RunRegistry(),
  };
  const agent = { run: (target: RunTarget, opts: RunOptions = {}) => new RunWriter(h, target, { ...opts, batchMs: 0 }) };
  const events = () => sent.map((s) => s.data);
  const types = () => events().map((e) => e.type);
  const text = () => events().filter((e) => e.type === EventType.TEXT_MESSAGE_CONTENT).map((e) => e.delta).join('');
  return { h, agent, sent, events, types, text };
}

const msg = (text: unknown) => ({ clientId: 'c1', data: typeof text === 'string' ? { text } : text });
const fast = { wordMs: 0, toolMs: 0 };

describe('runRequestFor', () => {
  test('run commands, their usage, plain text as chat; classic commands and non-text stay with commands.ts', () => {
    expect(runRequestFor({ text: 'story' })).toEqual({ kind: 'story' });
    expect(runRequestFor('  Weather   New York ')).toEqual({ kind: 'weather', city: 'New York' });
    expect(runRequestFor({ text: 'transfer 5' })).toEqual({ kind: 'transfer', amount: 5 });
    expect(runRequestFor({ text: 'weather' })).toMatchObject({ kind: 'usage' });
    expect(runRequestFor({ text: 'transfer -3' })).toMatchObject({ kind: 'usage' });
    expect(runRequestFor({ text: 'hello there' })).toEqual({ kind: 'chat', text: 'hello there' });
    for (const classic of ['help', 'echo hi', 'TIME', 'clients', 'whoami', 'broadcast x']) expect(runRequestFor({ text: classic })).toBeUndefined();
    expect(runRequestFor({ not: 'text' })).toBeUndefined();
    expect(runRequestFor({ text: '   ' })).toBeUndefined();
    // Control sequences never reach a reply.
    expect(runRequestFor({ text: 'hi \x1b]0;pwned\x07there' })).toEqual({ kind: 'chat', text: 'hi there' });
  });

  test('help lines are in the help format', () => {
    for (const line of RUN_HELP_LINES) expect(line).toMatch(/^ {2}\S.{0,16}\S? +\S/);
    for (const line of RUN_HELP_LINES) expect(HELP_TEXT.split('\n')).toContain(line);
    expect(HELP_TEXT.split('\n')[1]!.indexOf('this list')).toBe(RUN_HELP_LINES[0]!.indexOf('a long story'));
  });
});

describe('run commands', () => {
  test('story: the whole story streams word by word as one message, then the run finishes', async () => {
    const { agent, types, text, events } = host();
    await handleRunMessage(agent, msg('story'), fast);
    expect(text()).toBe(STORY);
    expect(types().filter((t) => t === EventType.TEXT_MESSAGE_CONTENT).length).toBeGreaterThan(100);
    expect(types()[0]).toBe(EventType.RUN_STARTED);
    expect(events().at(-1)).toMatchObject({ type: EventType.RUN_FINISHED, outcome: { type: 'success' }, threadId: 'demo-c1' });
  });

  test('story: Stop (client.cancel) ends it at once with outcome cancelled', async () => {
    const { agent, h, events, text } = host();
    const done = handleRunMessage(agent, msg('story'), { wordMs: 5 })!;
    await expect.poll(() => text().length > 20, { timeout: 1500, interval: 5, message: 'some words' }).toBe(true);
    const runId = events()[0]!.runId as string;
    expect(h.runs.onCancel({ type: 'client.cancel', clientId: 'c1', address: null, runId, ts: '' })).toBe(true);
    await done;
    const told = text();
    expect(told.length).toBeLessThan(STORY.length);
    expect(STORY.startsWith(told)).toBe(true);
    expect(events().at(-1)).toMatchObject({ type: EventType.RUN_FINISHED, outcome: { type: 'cancelled' } });
  });

  test('weather: a tool call with streamed arguments, a result, and a summary', async () => {
    const { agent, events, types, text } = host();
    await handleRunMessage(agent, msg('weather Oslo'), fast);
    const start = events().find((e) => e.type === EventType.TOOL_CALL_START)!;
    expect(start.toolCallName).toBe('get_weather');
    const args = events().filter((e) => e.type === EventType.TOOL_CALL_ARGS);
    expect(args.length).toBeGreaterThan(3);
    expect(JSON.parse(args.map((a) => a.delta).join(''))).toEqual({ city: 'Oslo', units: 'metric' });
    const result = events().find((e) => e.type === EventType.TOOL_CALL_RESULT)!;
    expect(JSON.parse(result.content)).toEqual(fakeForecast('Oslo'));
    expect(types().indexOf(EventType.TOOL_CALL_END)).toBeLessThan(types().indexOf(EventType.TOOL_CALL_RESULT));
    expect(text()).toContain(`${fakeForecast('Oslo').tempC} °C`);
    expect(types().at(-1)).toBe(EventType.RUN_FINISHED);
  });

  test('transfer: asks for approval; approved, the result names who approved', async () => {
    const { agent, h, events, text } = host();
    const done = handleRunMessage(agent, msg('transfer 5'), fast)!;
    await expect.poll(() => events().some((e) => e.type === EventType.RUN_FINISHED), { timeout: 1500, interval: 5, message: 'the interrupt' }).toBe(true);
    const fin = events().find((e) => e.type === EventType.RUN_FINISHED)!;
    const [interrupt] = fin.outcome.interrupts;
    expect(interrupt).toMatchObject({ reason: 'approval', message: 'Send 5 sploot coins to the treasury?' });
    const tool = events().find((e) => e.type === EventType.TOOL_CALL_START)!;
    expect(interrupt.toolCallId).toBe(tool.toolCallId);
    const answer = { resume: [{ interruptId: interrupt.id, status: 'resolved', payload: { approved: true } }], runId: 'r-2', threadId: fin.threadId };
    expect(h.runs.onMessage({ type: 'client.message', id: 'x', clientId: 'c1', address: '0xAbC', data: answer, ts: '' })).toBe(true);
    await done;
    const after = events().slice(events().indexOf(fin) + 1);
    expect(after[0]).toMatchObject({ type: EventType.RUN_STARTED, runId: 'r-2', parentRunId: fin.runId });
    expect(JSON.parse(after.find((e) => e.type === EventType.TOOL_CALL_RESULT)!.content)).toEqual({ ok: true, amount: 5, approvedBy: '0xAbC' });
    expect(text()).toContain('approved by 0xAbC');
    expect(after.at(-1)).toMatchObject({ type: EventType.RUN_FINISHED, outcome: { type: 'success' } });
  });

  test('transfer: denied (or dismissed), nothing is sent', async () => {
    for (const entry of [{ status: 'resolved', payload: { approved: false } }, { status: 'cancelled' }]) {
      const { agent, h, events, text } = host();
      const done = handleRunMessage(agent, msg('transfer 1'), fast)!;
      await expect.poll(() => events().some((e) => e.type === EventType.RUN_FINISHED), { timeout: 1500, interval: 5, message: 'the interrupt' }).toBe(true);
      const id = events().find((e) => e.type === EventType.RUN_FINISHED)!.outcome.interrupts[0].id;
      h.runs.onMessage({ type: 'client.message', id: 'x', clientId: 'c1', address: null, data: { resume: [{ interruptId: id, ...entry }] }, ts: '' });
      await done;
      expect(JSON.parse(events().find((e) => e.type === EventType.TOOL_CALL_RESULT)!.content)).toEqual({ ok: false, reason: 'denied' });
      expect(text()).toContain('I sent nothing');
    }
  });

  test('plain text gets a friendly streamed answer, not "unknown command"', async () => {
    const { agent, text, types } = host();
    await handleRunMessage(agent, msg('what is the meaning of life?'), fast);
    expect(text()).toBe(chatAnswer('what is the meaning of life?'));
    expect(text()).not.toContain('unknown command');
    expect(types().at(-1)).toBe(EventType.RUN_FINISHED);
  });

  test('a classic command is not a run', () => {
    const { agent, sent } = host();
    expect(handleRunMessage(agent, msg('echo hi'))).toBeUndefined();
    expect(sent).toHaveLength(0);
  });
});
