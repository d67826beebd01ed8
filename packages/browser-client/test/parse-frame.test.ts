// The browser client's hand-written frame parser must accept and refuse exactly what common's
// zod schemas do (it exists only to keep zod out of the published bundle).
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { AcceptedFrame, ClientWelcomeFrame, DeliveredMessageFrame, ErrorFrame, SystemFrame } from '@agent-bridge/common/protocol';
import { parseInboundFrame } from '../src/parse-frame.ts';

const junk = fc.oneof(fc.constant(null), fc.boolean(), fc.integer({ min: -3, max: 3 }), fc.double(), fc.string({ maxLength: 4 }), fc.array(fc.integer(), { maxLength: 2 }), fc.object({ maxDepth: 1 }));
/** A valid value most of the time, sometimes junk, sometimes absent. */
const field = <T>(valid: fc.Arbitrary<T>) => fc.option(fc.oneof({ weight: 4, arbitrary: valid }, { weight: 1, arbitrary: junk }), { nil: undefined, freq: 8 });
const int = (min: number) => fc.integer({ min, max: 1e6 });

const frames = {
  welcome: fc.record({
    type: fc.constant('welcome'),
    clientId: field(fc.string({ minLength: 0, maxLength: 130 })),
    epoch: field(fc.uuid()),
    resumed: field(fc.boolean()),
    replayed: field(int(-1)),
    lastSeq: field(int(-1)),
    heartbeatMs: field(int(0)),
    agents: field(fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 })),
    address: field(fc.oneof(fc.constant(null), fc.string({ maxLength: 42 }))),
    acks: field(fc.boolean()),
  }),
  message: fc.record({
    type: fc.constant('message'),
    seq: field(int(0)),
    merged: field(fc.tuple(int(0), int(0))),
    id: field(fc.string({ maxLength: 8 })),
    from: field(fc.string({ maxLength: 8 })),
    data: fc.option(fc.jsonValue({ maxDepth: 2 }), { nil: undefined }),
    ts: field(fc.string({ maxLength: 8 })),
    _meta: field(fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 4 }))),
    accepted: field(fc.array(fc.string({ maxLength: 4 }), { maxLength: 2 })),
  }),
  system: fc.record({
    type: fc.constant('system'),
    seq: field(int(0)),
    event: field(fc.constantFrom('agent.connected', 'bridge.reconnecting', 'x.new')),
    ts: field(fc.string({ maxLength: 8 })),
    agent: field(fc.string({ maxLength: 4 })),
    accepted: field(fc.array(fc.string({ maxLength: 4 }), { maxLength: 2 })),
  }),
  error: fc.record({
    type: fc.constant('error'),
    code: field(fc.constantFrom('invalid_message', 'rate_limited')),
    message: field(fc.string({ maxLength: 8 })),
    ref: field(fc.string({ maxLength: 8 })),
    clientIds: field(fc.array(fc.string({ maxLength: 4 }), { maxLength: 2 })),
    accepted: field(fc.array(fc.string({ maxLength: 4 }), { maxLength: 2 })),
  }),
  accepted: fc.record({
    type: fc.constant('accepted'),
    ref: field(fc.string({ maxLength: 8 })),
  }),
};
const schemas = { welcome: ClientWelcomeFrame, message: DeliveredMessageFrame, system: SystemFrame, error: ErrorFrame, accepted: AcceptedFrame };

describe('parseInboundFrame', () => {
  for (const type of Object.keys(frames) as (keyof typeof frames)[]) {
    test(`${type}: accepts exactly what common's schema accepts`, () => {
      fc.assert(
        fc.property(frames[type], (f) => {
          // What goes over the wire: undefined fields vanish, as in JSON.stringify.
          const wire = JSON.parse(JSON.stringify(f)) as unknown;
          const ours = parseInboundFrame(JSON.stringify(wire));
          const theirs = schemas[type].safeParse(wire).success;
          expect(ours.ok && ours.frame !== undefined).toBe(theirs);
        }),
        { numRuns: 2000, seed: 20261126 },
      );
    });
  }

  test('unknown types pass as unknown (a newer bridge); non-objects and missing types are refused', () => {
    expect(parseInboundFrame('{"type":"x.later","ref":"c-1"}')).toEqual({ ok: true, frame: undefined, type: 'x.later' });
    expect(parseInboundFrame('{"type":"accepted","ref":"c-1"}')).toEqual({ ok: true, frame: { type: 'accepted', ref: 'c-1' } });
    expect(parseInboundFrame('not json')).toMatchObject({ ok: false });
    expect(parseInboundFrame('[1]')).toMatchObject({ ok: false });
    expect(parseInboundFrame('{"seq":1}')).toMatchObject({ ok: false });
  });
});
