import { EventType } from '@ag-ui/core';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  OffsetTracker,
  TextAssembler,
  appendDelta,
  canMerge,
  coalesce,
  deltaStreamKey,
  mergeFrames,
  seqRange,
  tryMerge,
  type SeqFrame,
} from '../src/protocol/coalesce.ts';

// ---------------------------------------------------------------- generators

/** Text with astral characters (surrogate pairs), BMP, ASCII and lone surrogates. */
const unit = fc.oneof(
  fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 3 }),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 2 }), // full Unicode: astral → 2 code units
  fc.constantFrom('\uD83D', '\uDE00', '😀', '𝄞', 'é', '\n', '"', '\\'),
);
const text = fc.array(unit, { minLength: 0, maxLength: 40 }).map((parts) => parts.join(''));

/** Cut `s` at arbitrary UTF-16 indices (a cut may fall inside a surrogate pair); empty deltas allowed. */
function splitAt(s: string, cuts: number[]): string[] {
  const points = [...new Set(cuts.map((c) => c % (s.length + 1)))].sort((a, b) => a - b);
  const out: string[] = [];
  let from = 0;
  for (const p of points) {
    out.push(s.slice(from, p));
    from = p;
  }
  out.push(s.slice(from));
  return out;
}

const content = (messageId: string, delta: string, extra: Record<string, unknown> = {}) => ({
  type: EventType.TEXT_MESSAGE_CONTENT,
  messageId,
  delta,
  runId: 'r1',
  ...extra,
});

const frame = (seq: number, data: unknown, from = 'default'): SeqFrame => ({
  type: 'message',
  seq,
  id: `id-${seq}`,
  from,
  data,
  ts: `t${seq}`,
});

/** Frames seq 1.. for the deltas of two interleaved streams and unrelated frames, offsets stamped as a bridge would. */
function stream(items: { stream: 'a' | 'b' | 'x'; delta: string }[]): SeqFrame[] {
  const tracker = new OffsetTracker();
  return items.map((it, i) => {
    if (it.stream === 'x') return { type: 'system', seq: i + 1, event: 'agent.connected', agent: 'other' };
    const data =
      it.stream === 'a'
        ? content('m-a', it.delta)
        : { type: EventType.TOOL_CALL_ARGS, toolCallId: 't-b', delta: it.delta, runId: 'r1' };
    return frame(i + 1, tracker.stamp(data));
  });
}

/** Merge some adjacent pairs, chosen by `choices`, repeatedly (any partial coalescing). */
function partialCoalesce(frames: SeqFrame[], choices: boolean[]): SeqFrame[] {
  const out: SeqFrame[] = [];
  let i = 0;
  for (const f of frames) {
    const merged = choices[i++ % Math.max(1, choices.length)] ? tryMerge(out[out.length - 1], f) : undefined;
    if (merged) out[out.length - 1] = merged;
    else out.push(f);
  }
  return out;
}

/** What a client reconstructs per stream from the frames it is given, in order. */
function assemble(frames: SeqFrame[], asm = new TextAssembler()): TextAssembler {
  for (const f of frames) {
    const key = deltaStreamKey(f.data);
    if (key !== undefined) asm.apply(f.data as { delta: string; offset?: number }, key);
  }
  return asm;
}

const A = `${EventType.TEXT_MESSAGE_CONTENT}:m-a`;
const B = `${EventType.TOOL_CALL_ARGS}:t-b`;

// ---------------------------------------------------------------- properties

describe('coalescing (property-based)', () => {
  test('any split, any coalescing, any resume point: the client reconstructs the exact text', () => {
    fc.assert(
      fc.property(
        text,
        fc.array(fc.nat(), { maxLength: 30 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 20 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 20 }),
        fc.nat(),
        (s, cuts, liveChoices, bufferChoices, resumeAt) => {
          const frames = stream(splitAt(s, cuts).map((delta) => ({ stream: 'a' as const, delta })));
          // What the client got live (possibly coalesced by its mailbox) up to some frame …
          const live = partialCoalesce(frames, liveChoices);
          const got = live.slice(0, resumeAt % (live.length + 1));
          const lastSeq = got.length === 0 ? 0 : got[got.length - 1]!.seq;
          // … then the replay of what the (independently coalesced) resume buffer holds after it.
          const buffer = partialCoalesce(frames, bufferChoices);
          const replay = buffer.filter((f) => f.seq > lastSeq);
          expect(assemble([...got, ...replay]).text(A)).toBe(s);
          // Full coalescing is one frame per stream.
          expect(assemble(coalesce(frames)).text(A)).toBe(s);
        },
      ),
      { numRuns: 500 },
    );
  });

  test('interleaved streams never merge across each other, and each reconstructs exactly', () => {
    const item = fc.record({ stream: fc.constantFrom<'a' | 'b' | 'x'>('a', 'b', 'x'), delta: text });
    fc.assert(
      fc.property(fc.array(item, { maxLength: 40 }), fc.array(fc.boolean(), { minLength: 1 }), fc.nat(), (items, choices, resumeAt) => {
        const frames = stream(items);
        const bySeq = new Map(frames.map((f) => [f.seq, f]));
        for (const out of [coalesce(frames), partialCoalesce(frames, choices)]) {
          // Every merged frame stands for a contiguous range of one stream and nothing else.
          for (const f of out) {
            const [first, last] = seqRange(f);
            expect(last).toBe(f.seq);
            for (let q = first; q <= last; q++) expect(deltaStreamKey(bySeq.get(q)!.data)).toBe(deltaStreamKey(f.data));
          }
          // Seq ranges tile the original sequence: nothing lost, nothing repeated.
          expect(out.flatMap((f) => {
            const [a, b] = seqRange(f);
            return Array.from({ length: b - a + 1 }, (_, k) => a + k);
          })).toEqual(frames.map((f) => f.seq));
          const cut = out[resumeAt % (out.length + 1) - 1]?.seq ?? 0;
          const asm = assemble(frames.filter((f) => f.seq <= cut));
          assemble(out.filter((f) => f.seq > cut), asm);
          const want = (k: 'a' | 'b') => items.filter((i) => i.stream === k).map((i) => i.delta).join('');
          expect(asm.text(A)).toBe(want('a'));
          expect(asm.text(B)).toBe(want('b'));
        }
      }),
      { numRuns: 300 },
    );
  });

  test('frames missing from the list (dropped from a mailbox) are never covered by a merged range', () => {
    fc.assert(
      fc.property(fc.array(text, { minLength: 1, maxLength: 30 }), fc.array(fc.boolean(), { minLength: 1 }), (deltas, keep) => {
        const frames = stream(deltas.map((delta) => ({ stream: 'a' as const, delta })));
        const held = frames.filter((_, i) => keep[i % keep.length]);
        const present = new Set(held.map((f) => f.seq));
        for (const f of coalesce(held)) {
          const [a, b] = seqRange(f);
          for (let q = a; q <= b; q++) expect(present.has(q)).toBe(true);
        }
      }),
    );
  });

  test('a replay received twice (a resume from before a merged frame) adds nothing the second time', () => {
    fc.assert(
      fc.property(text, fc.array(fc.nat(), { maxLength: 20 }), (s, cuts) => {
        const merged = coalesce(stream(splitAt(s, cuts).map((delta) => ({ stream: 'a' as const, delta }))));
        expect(assemble([...merged, ...merged]).text(A)).toBe(s);
      }),
    );
  });
});

// ---------------------------------------------------------------- examples

describe('merge rules', () => {
  const t = new OffsetTracker();
  const f1 = frame(1, t.stamp(content('m', 'Hel')));
  const f2 = frame(2, t.stamp(content('m', 'lo')));
  const f3 = frame(3, t.stamp(content('m', ' 😀')));

  test('a merged frame has the last seq and id, the range, the joined delta and the first offset', () => {
    const m = mergeFrames(mergeFrames(f1, f2), f3);
    expect(m).toMatchObject({ type: 'message', seq: 3, id: 'id-3', ts: 't3', merged: [1, 3] });
    expect(m.data).toEqual(content('m', 'Hello 😀', { offset: 0 }));
    expect(coalesce([f1, f2, f3])).toEqual([m]);
  });

  test('non-adjacent frames (a gap in seq: something between them) never merge', () => {
    const late = { ...f3, seq: 4, id: 'id-4' };
    expect(canMerge(f2, late)).toBe(false);
    expect(coalesce([f1, f2, late])).toHaveLength(2);
  });

  test('other agents, other messages, other runs, other event types and missing offsets do not merge', () => {
    expect(canMerge(f1, { ...f2, from: 'other' })).toBe(false);
    expect(canMerge(f1, frame(2, content('m2', 'lo', { offset: 3 })))).toBe(false);
    expect(canMerge(f1, frame(2, content('m', 'lo', { offset: 3, runId: 'r2' })))).toBe(false);
    expect(canMerge(f1, frame(2, { type: EventType.TEXT_MESSAGE_END, messageId: 'm' }))).toBe(false);
    expect(canMerge(frame(1, content('m', 'Hel')), frame(2, content('m', 'lo')))).toBe(false);
    // Not contiguous in text (an offset that does not continue the previous delta).
    expect(canMerge(f1, frame(2, content('m', 'lo', { offset: 4 })))).toBe(false);
  });

  test('maxDeltaUnits caps what one merged frame carries', () => {
    expect(canMerge(f1, f2, { maxDeltaUnits: 5 })).toBe(true);
    expect(canMerge(f1, f2, { maxDeltaUnits: 4 })).toBe(false);
    expect(coalesce([f1, f2, f3], { maxDeltaUnits: 5 }).map((f) => f.seq)).toEqual([2, 3]);
  });

  test('the offset rule: L ≤ N takes the whole delta, L > N drops L − N units', () => {
    expect(appendDelta('', { delta: 'abc', offset: 0 })).toBe('abc');
    expect(appendDelta('ab', { delta: 'abcd', offset: 0 })).toBe('cd');
    expect(appendDelta('abcdef', { delta: 'cd', offset: 2 })).toBe('');
    expect(appendDelta('ab', { delta: 'cd', offset: 2 })).toBe('cd');
    expect(appendDelta('a', { delta: 'cd', offset: 2 })).toBe('cd');
    expect(appendDelta('xyz', { delta: 'cd' })).toBe('cd');
  });

  test('the tracker keeps a sender’s offset, forgets a stream at its end, and stays bounded', () => {
    const tr = new OffsetTracker(2);
    expect(tr.stamp(content('m', 'ab', { offset: 7 }))).toMatchObject({ offset: 7 });
    expect(tr.stamp(content('m', 'c'))).toMatchObject({ offset: 9 });
    tr.stamp({ type: EventType.TEXT_MESSAGE_END, messageId: 'm' });
    expect(tr.size).toBe(0);
    tr.stamp(content('a', 'x'));
    tr.stamp(content('b', 'x'));
    tr.stamp(content('c', 'x'));
    expect(tr.size).toBe(2);
    const other = { type: EventType.RUN_STARTED, runId: 'r', threadId: 't' };
    expect(tr.stamp(other)).toBe(other);
  });
});
