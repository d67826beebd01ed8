import { EventType } from '@ag-ui/core';
import { EventSchemas, RunAgentInputSchema } from '@ag-ui/core/schemas';
import { describe, expect, test } from 'vitest';
import { BridgeToAgentFrame, ClientCancelFrame, FrameType, parseFrame } from '../src/index.ts';

describe('§9 frames', () => {
  test('a client cancel names a run, optionally an agent and an id', () => {
    expect(parseFrame('{"type":"cancel","runId":"r-1"}', ClientCancelFrame)).toEqual({ ok: true, frame: { type: 'cancel', runId: 'r-1' } });
    expect(parseFrame('{"type":"cancel","runId":"r-1","agent":"trader","id":"c-9"}', ClientCancelFrame)).toMatchObject({
      ok: true,
      frame: { agent: 'trader', id: 'c-9' },
    });
    expect(parseFrame('{"type":"cancel","id":"c-9"}', ClientCancelFrame)).toMatchObject({ ok: false, code: 'invalid_message', ref: 'c-9' });
    expect(parseFrame('{"type":"cancel","runId":""}', ClientCancelFrame).ok).toBe(false);
    expect(parseFrame('{"type":"cancel","runId":"r","agent":"no spaces"}', ClientCancelFrame).ok).toBe(false);
  });

  test('client.cancel reaches an agent as a bridge → agent frame', () => {
    const raw = { type: FrameType.clientCancel, clientId: 'c1', address: null, runId: 'r-1', ts: '2026-01-01T00:00:00.000Z' };
    expect(BridgeToAgentFrame.safeParse(raw)).toMatchObject({ success: true, data: raw });
    expect(BridgeToAgentFrame.safeParse({ ...raw, runId: undefined }).success).toBe(false);
  });

  test('AG-UI’s own schemas accept run events carrying our runId/threadId/offset fields', () => {
    const ev = { type: EventType.TEXT_MESSAGE_CONTENT, messageId: 'm', delta: 'hi', runId: 'r', threadId: 't', offset: 3 };
    expect(EventSchemas.parse(ev)).toEqual(ev);
    // An interrupt answer is a RunAgentInput with `resume` (docs/protocol.md, "Agent runs").
    const answer = {
      threadId: 't',
      runId: 'r-2',
      parentRunId: 'r',
      messages: [],
      tools: [],
      context: [],
      resume: [{ interruptId: 'i-1', status: 'resolved', payload: { approved: true } }],
    };
    expect(RunAgentInputSchema.parse(answer)).toMatchObject(answer);
  });
});
