import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  attachMeta,
  childTraceparent,
  ensureMeta,
  forwardMeta,
  newTraceparent,
  parseTraceparent,
  parseTracestate,
  peekMeta,
  readMeta,
  traceIdOf,
} from '../src/protocol/trace.ts';
import { AgentFrame, ClientFrame } from '../src/protocol/frames.ts';
import { parseFrame } from '../src/protocol/parse.ts';

const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('traceparent (W3C Trace Context §3.2)', () => {
  test('a valid version-00 traceparent parses into its fields', () => {
    expect(parseTraceparent(TP)).toEqual({ version: '00', traceId: '4bf92f3577b34da6a3ce929d0e0e4736', parentId: '00f067aa0ba902b7', flags: '01' });
  });

  test.each([
    ['all-zero trace id', '00-00000000000000000000000000000000-00f067aa0ba902b7-01'],
    ['all-zero parent id', '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01'],
    ['version ff', 'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'],
    ['version not hex', 'zz-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'],
    ['upper-case hex', '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01'],
    ['trace id 31 digits', '00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01'],
    ['trace id 33 digits', '00-4bf92f3577b34da6a3ce929d0e0e47366-00f067aa0ba902b7-01'],
    ['parent id 15 digits', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b-01'],
    ['parent id 17 digits', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b77-01'],
    ['flags 1 digit', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1'],
    ['flags 3 digits', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-011'],
    ['flags not hex', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g'],
    ['version 00 with trailing fields', `${TP}-extra`],
    ['wrong separators', '00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01'],
    ['surrounding space', ` ${TP}`],
    ['empty', ''],
    ['a number', 42],
    ['null', null],
  ])('invalid: %s', (_why, value) => {
    expect(parseTraceparent(value)).toBeUndefined();
  });

  test('a future version is read for the fields we know: longer only after a dash', () => {
    expect(parseTraceparent(`cc${TP.slice(2)}`)?.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(parseTraceparent(`cc${TP.slice(2)}-what-the-future-holds`)?.parentId).toBe('00f067aa0ba902b7');
    expect(parseTraceparent(`cc${TP.slice(2)}what`)).toBeUndefined();
  });

  test('new and child traceparents are valid, random and keep the trace', () => {
    const a = newTraceparent();
    const b = newTraceparent();
    expect(parseTraceparent(a)).toBeDefined();
    expect(a).not.toBe(b);
    const child = childTraceparent(parseTraceparent(a)!);
    expect(child.slice(0, 35)).toBe(a.slice(0, 35));
    expect(child.slice(36, 52)).not.toBe(a.slice(36, 52));
  });

  test('new traceparents across many batches: all valid, version 00, sampled, no trace or span id twice', () => {
    const seen = new Set<string>();
    const spans = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const tp = newTraceparent();
      expect(tp).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      expect(parseTraceparent(tp)).toBeDefined();
      seen.add(tp.slice(3, 35));
      spans.add(tp.slice(36, 52));
    }
    expect(seen.size).toBe(1000);
    expect(spans.size).toBe(1000);
  });
});

describe('tracestate', () => {
  test.each([
    ['congo=t61rcWkgMzE', 'congo=t61rcWkgMzE'],
    ['rojo=00f067aa0ba902b7 , congo=t61rcWkgMzE', 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE'],
    ['a=1,,b=2', 'a=1,b=2'],
    ['fw529a3039@dt=abc', 'fw529a3039@dt=abc'],
    ['k=va lue', 'k=va lue'],
  ])('valid %j', (input, want) => expect(parseTracestate(input)).toBe(want));

  test.each([
    ['upper-case key', 'Congo=1'],
    ['key starting with a digit', '1a=1'],
    ['duplicate key', 'a=1,a=2'],
    ['value with =', 'a=b=c'],
    ['control character in value', 'a=b\u0001c'],
    ['empty value', 'a='],
    ['no =', 'a'],
    ['non-ASCII value', 'a=é'],
    ['33 members', Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(',')],
    ['only commas', ',,'],
    ['system id too long', 't@abcdefghijklmno=1'],
  ])('invalid: %s', (_why, value) => expect(parseTracestate(value)).toBeUndefined());
});

describe('frame _meta', () => {
  test('readMeta: a valid traceparent passes unchanged with the sender’s other keys', () => {
    const meta = { traceparent: TP, tracestate: 'a=1', progressToken: 7 };
    expect(readMeta({ type: 'message', _meta: meta })).toBe(meta);
    expect(traceIdOf(meta)).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
  });

  test('readMeta: an invalid tracestate is dropped, the traceparent kept', () => {
    expect(readMeta({ _meta: { traceparent: TP, tracestate: 'A=1' } })).toEqual({ traceparent: TP });
  });

  test('ensureMeta starts a trace where none or an invalid one came, keeping other keys but no tracestate', () => {
    const none = ensureMeta({ type: 'message', data: 1 });
    expect(none.started).toBe(true);
    expect(parseTraceparent(none.meta.traceparent)?.traceId).toBe(none.traceId);

    const bad = ensureMeta({ _meta: { traceparent: '00-00000000000000000000000000000000-00f067aa0ba902b7-01', tracestate: 'a=1', x: 1 } });
    expect(bad.started).toBe(true);
    expect(bad.meta.x).toBe(1);
    expect(bad.meta.tracestate).toBeUndefined();
    expect(bad.traceId).not.toBe('00000000000000000000000000000000');

    const frame = { _meta: { traceparent: TP } };
    const kept = ensureMeta(frame);
    expect(kept).toEqual({ meta: frame._meta, traceId: '4bf92f3577b34da6a3ce929d0e0e4736', started: false });
    expect(kept.meta).toBe(frame._meta);
  });

  test('forwardMeta gives what ensureMeta forwards: the frame’s own valid _meta, else a new trace', () => {
    const frame = { _meta: { traceparent: TP, tracestate: 'a=1' } };
    expect(forwardMeta(frame)).toBe(frame._meta);
    expect(parseTraceparent(forwardMeta({}).traceparent)).toBeDefined();
    expect(forwardMeta({}).traceparent).not.toBe(forwardMeta({}).traceparent);
    const bad = forwardMeta({ _meta: { traceparent: 'nope', tracestate: 'a=1', x: 1 } });
    expect(bad).toMatchObject({ x: 1 });
    expect(bad.tracestate).toBeUndefined();
    expect(parseTraceparent(bad.traceparent)).toBeDefined();
    expect(forwardMeta({ _meta: { traceparent: TP, tracestate: 'A=1' } })).toEqual({ traceparent: TP });
  });
});

describe('raw text: peekMeta and attachMeta', () => {
  test('peekMeta finds a top-level _meta anywhere, ignores nested ones and strings that mention it', () => {
    expect(peekMeta(`{"type":"message","data":{"x":1},"_meta":{"traceparent":"${TP}"}}`)?.traceparent).toBe(TP);
    expect(peekMeta(`{"_meta" : {"traceparent":"${TP}"} ,"type":"send"}`)?.traceparent).toBe(TP);
    expect(peekMeta(`{"type":"message","data":{"_meta":{"traceparent":"${TP}"}}}`)).toBeUndefined();
    expect(peekMeta(`{"type":"message","data":"\\"_meta\\":{\\"traceparent\\":\\"${TP}\\"}"}`)).toBeUndefined();
    expect(peekMeta(`{"data":[{"_meta":1},"_meta"],"x":"a\\\\"}`)).toBeUndefined();
    // A key spelled with escapes is not looked for (documented): the broker, which parses, sees it.
    expect(peekMeta(`{"\\u005fmeta":{"traceparent":"${TP}"}}`)).toBeUndefined();
    expect(peekMeta(`{"a\\"":1,"_meta":{"traceparent":"${TP}"}}`)?.traceparent).toBe(TP);
    expect(peekMeta(`{"x":"_meta","_\\u006deta":{"traceparent":"${TP}"}}`)?.traceparent).toBe(TP);
    expect(peekMeta(`{"_meta":{"traceparent":"nope"}}`)).toBeUndefined();
    expect(peekMeta('{"_meta":{"traceparent":')).toBeUndefined();
    expect(peekMeta('["_meta"]')).toBeUndefined();
  });

  test('attachMeta prepends by splicing and keeps a sender’s own _meta on parse', () => {
    const meta = { traceparent: TP };
    expect(JSON.parse(attachMeta('{"type":"message","data":1}', meta))).toEqual({ _meta: meta, type: 'message', data: 1 });
    expect(JSON.parse(attachMeta(' { } ', JSON.stringify(meta)))).toEqual({ _meta: meta });
    expect(attachMeta('[1]', meta)).toBe('[1]');
    const own = { traceparent: newTraceparent() };
    expect(JSON.parse(attachMeta(JSON.stringify({ a: 1, _meta: own }), meta))._meta).toEqual(own);
  });

  // The scanner must agree with JSON.parse on every frame, whatever its payload holds.
  test('peekMeta(JSON text) equals readMeta(parsed) for arbitrary frames', () => {
    const metaArb = fc.oneof(
      fc.constant(undefined),
      fc.record({ traceparent: fc.oneof(fc.constant(TP), fc.string()), tracestate: fc.option(fc.constantFrom('a=1', 'B=2'), { nil: undefined }) }),
      fc.jsonValue(),
    );
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 5 }), metaArb, fc.boolean(), (obj, meta, first) => {
        const { _meta: _ignored, ...rest } = obj as Record<string, unknown>;
        const frame = meta === undefined ? rest : first ? { _meta: meta, ...rest } : { ...rest, _meta: meta };
        const text = JSON.stringify(frame);
        expect(peekMeta(text)).toEqual(readMeta(JSON.parse(text)));
        if (meta === undefined) {
          const withMeta = JSON.parse(attachMeta(text, { traceparent: TP }));
          expect(withMeta).toEqual({ ...JSON.parse(text), _meta: { traceparent: TP } });
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('_meta in the frame schemas', () => {
  test('any object is accepted and kept as sent; anything else is invalid_message', () => {
    const meta = { traceparent: 'not one', tracestate: 1, vendor: { x: [1] } };
    const ok = parseFrame(JSON.stringify({ type: 'message', data: 1, _meta: meta }), ClientFrame);
    expect(ok.ok && '_meta' in ok.frame && ok.frame._meta).toEqual(meta);
    expect(parseFrame(JSON.stringify({ type: 'broadcast', data: 1, _meta: {} }), AgentFrame).ok).toBe(true);
    for (const bad of ['x', 1, null, [], true]) {
      const r = parseFrame(JSON.stringify({ type: 'message', id: 'm-1', data: 1, _meta: bad }), ClientFrame);
      expect(r).toMatchObject({ ok: false, code: 'invalid_message', ref: 'm-1' });
    }
  });
});
