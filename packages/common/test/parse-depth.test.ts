import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { AgentFrame, ClientFrame, MAX_JSON_DEPTH, decodeJson, jsonDepthExceeds, parseFrame, peekRef } from '../src/index.ts';

/** `{"type":…,"id":…,"data":<value>}` whose whole nesting (the frame itself = 1) is `depth`. */
function nested(depth: number, type = 'message', open = '[', close = ']', leaf = ''): string {
  const inner = depth - 1; // levels inside `data`
  return `{"type":"${type}","id":"deep-1","to":"c","data":${open.repeat(inner)}${leaf}${close.repeat(inner)}}`;
}

/** Reference depth of a parsed JSON value (recursive: only for the small values fast-check makes). */
function depthOf(v: unknown): number {
  if (v === null || typeof v !== 'object') return 0;
  const children = Array.isArray(v) ? v : Object.values(v);
  return 1 + children.reduce<number>((m, c) => Math.max(m, depthOf(c)), 0);
}

const SEED = 0x5eed_0009;

describe('frame depth limit', () => {
  test(`${MAX_JSON_DEPTH} levels pass, one more is invalid_message with ref`, () => {
    expect(parseFrame(nested(MAX_JSON_DEPTH), ClientFrame).ok).toBe(true);
    expect(parseFrame(nested(MAX_JSON_DEPTH + 1), ClientFrame)).toEqual({
      ok: false,
      code: 'invalid_message',
      message: `frame nests deeper than ${MAX_JSON_DEPTH} levels`,
      ref: 'deep-1',
    });
  });

  test('the finding: ~5,000 levels (and 30,000) answer invalid_message and never throw', () => {
    for (const depth of [5_000, 30_000]) {
      expect(() => parseFrame(nested(depth), ClientFrame)).not.toThrow();
      expect(parseFrame(nested(depth), ClientFrame)).toMatchObject({ ok: false, code: 'invalid_message', ref: 'deep-1' });
      expect(parseFrame(nested(depth, 'broadcast', '{"a":', '}', '1'), AgentFrame)).toMatchObject({ ok: false, code: 'invalid_message' });
      expect(parseFrame(nested(depth, 'send', '{"a":', '}', '1'), AgentFrame)).toMatchObject({ ok: false, code: 'invalid_message' });
    }
  });

  test('every frame parseFrame accepts can be re-serialised (what the broker does with it)', () => {
    const parsed = parseFrame(nested(MAX_JSON_DEPTH), ClientFrame);
    expect(parsed.ok).toBe(true);
    if (parsed.ok) expect(() => JSON.stringify({ wrapper: { frame: parsed.frame } })).not.toThrow();
  });

  test('brackets inside strings, escaped quotes and backslashes do not count', () => {
    const text = '[{'.repeat(200);
    const raw = JSON.stringify({ type: 'message', id: 's', data: { text, q: '\\"[[[', b: '\\\\', tail: ['x\\"]]]]'] } });
    expect(jsonDepthExceeds(raw)).toBe(false);
    expect(parseFrame(raw, ClientFrame).ok).toBe(true);
    // A string ending in an escaped backslash closes there: the brackets after it count.
    expect(jsonDepthExceeds('{"a":"x\\\\","b":[[]]}', 2)).toBe(true);
    expect(jsonDepthExceeds('{"a":"x\\\\","b":[[]]}', 3)).toBe(false);
  });

  test('decodeJson (used by the web server pipe and the agent SDK) applies the limit too', () => {
    expect(decodeJson(nested(MAX_JSON_DEPTH + 1))).toMatchObject({ ok: false, code: 'invalid_message', ref: 'deep-1' });
    expect(decodeJson('{nope')).toMatchObject({ ok: false, code: 'invalid_json' });
    expect(peekRef(nested(10_000))).toBe('deep-1');
  });

  test('property: the scan agrees with the depth of the parsed value, for any JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), fc.integer({ min: 0, max: 9 }), (value, max) => {
        const text = JSON.stringify(value);
        expect(jsonDepthExceeds(text, max)).toBe(depthOf(value) > max);
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });

  test('property: parseFrame never throws and answers only invalid_json / invalid_message on garbage', () => {
    const raws = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.json({ maxDepth: 6 }),
      fc.jsonValue({ maxDepth: 4 }).map((data) => JSON.stringify({ type: 'message', data })),
      fc.integer({ min: 1, max: 3000 }).map((d) => nested(d)),
    );
    fc.assert(
      fc.property(raws, (raw) => {
        for (const schema of [ClientFrame, AgentFrame]) {
          const r = parseFrame(raw, schema);
          if (!r.ok) expect(['invalid_json', 'invalid_message']).toContain(r.code);
          else expect(() => JSON.stringify(r.frame)).not.toThrow();
        }
      }),
      { seed: SEED, numRuns: 1500 },
    );
  });
});
