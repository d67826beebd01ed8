import { describe, expect, test } from 'vitest';
import { AgentFrame, ClientFrame, closeReason, parseFrame, shouldReconnect } from '../src/index.ts';

describe('parseFrame', () => {
  test('accepts a client message and keeps unknown optional fields out of the way', () => {
    const r = parseFrame(JSON.stringify({ type: 'message', id: 'c-1', data: { text: 'hi' }, extra: 1 }), ClientFrame);
    expect(r).toMatchObject({ ok: true, frame: { type: 'message', id: 'c-1', data: { text: 'hi' } } });
  });
  test('data may be any JSON value but must be present', () => {
    expect(parseFrame('{"type":"message","data":null}', ClientFrame).ok).toBe(true);
    expect(parseFrame('{"type":"message","data":0}', ClientFrame).ok).toBe(true);
    expect(parseFrame('{"type":"message","id":"c-9"}', ClientFrame)).toEqual({
      ok: false,
      code: 'invalid_message',
      message: 'data is required',
      ref: 'c-9',
    });
  });
  test('invalid JSON and non-objects are invalid_json', () => {
    expect(parseFrame('{nope', ClientFrame)).toMatchObject({ ok: false, code: 'invalid_json' });
    expect(parseFrame('[1,2]', ClientFrame)).toMatchObject({ ok: false, code: 'invalid_json' });
    expect(parseFrame('"str"', ClientFrame)).toMatchObject({ ok: false, code: 'invalid_json' });
  });
  test('unknown or missing type is invalid_message with a clear text', () => {
    const r = parseFrame('{"type":"bogus","id":"x"}', ClientFrame);
    expect(r).toMatchObject({ ok: false, code: 'invalid_message', ref: 'x' });
    if (!r.ok) expect(r.message).toContain('bogus');
    const m = parseFrame('{"data":1}', ClientFrame);
    expect(m).toMatchObject({ ok: false, code: 'invalid_message', message: 'type is required and must be a string' });
  });
  test('agent frames: send needs to; broadcast except is a list', () => {
    expect(parseFrame('{"type":"send","to":"a","data":1}', AgentFrame).ok).toBe(true);
    expect(parseFrame('{"type":"send","to":["a","b"],"data":1}', AgentFrame).ok).toBe(true);
    expect(parseFrame('{"type":"send","to":[],"data":1}', AgentFrame)).toMatchObject({ ok: false, code: 'invalid_message' });
    expect(parseFrame('{"type":"send","data":1}', AgentFrame)).toMatchObject({ ok: false, code: 'invalid_message' });
    expect(parseFrame('{"type":"broadcast","data":1,"except":"a"}', AgentFrame)).toMatchObject({ ok: false });
  });
  test('bad agent name is refused', () => {
    expect(parseFrame('{"type":"message","agent":"no spaces","data":1}', ClientFrame)).toMatchObject({ ok: false, code: 'invalid_message' });
  });
});

describe('close codes', () => {
  test('range rule', () => {
    expect(shouldReconnect(4000)).toBe(true);
    expect(shouldReconnect(4499)).toBe(true);
    expect(shouldReconnect(4500)).toBe(false);
    expect(shouldReconnect(4999)).toBe(false);
    expect(shouldReconnect(1001)).toBe(true);
    expect(shouldReconnect(1006)).toBe(true);
    expect(shouldReconnect(1013)).toBe(true);
    expect(shouldReconnect(1008)).toBe(false);
    expect(shouldReconnect(1000)).toBe(false);
  });
  test('close reasons are cut to 123 bytes without splitting a character', () => {
    const r = closeReason('é'.repeat(100));
    expect(new TextEncoder().encode(r).length).toBeLessThanOrEqual(123);
    expect(r).toBe('é'.repeat(61));
  });
});
