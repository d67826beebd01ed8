// The broker's run pieces without sockets: offset stamping, the run → agent memory, merged bodies
// (their size, their text, their sharing) and the resume buffer's coalescing and budget charges.
import { describe, expect, it } from 'vitest';
import { TextAssembler, mergeFrames, type SeqFrame } from '@agent-bridge/common';
import { type DeltaBody, deltaPartOf, mergeBodies } from '../src/coalescing.ts';
import { SeqMessageTemplate } from '../src/frames-out.ts';
import { ResumeBuffer, frameText } from '../src/resume-buffer.ts';
import { FRAME_OVERHEAD_BYTES, ResumeBudget } from '../src/resume-budget.ts';
import { RunAgents, StreamOffsets } from '../src/runs.ts';

const START = (messageId: string) => ({ type: 'TEXT_MESSAGE_START', messageId, role: 'assistant', runId: 'r' });
const CONTENT = (messageId: string, delta: string, extra: Record<string, unknown> = {}) => ({
  type: 'TEXT_MESSAGE_CONTENT',
  messageId,
  delta,
  runId: 'r',
  ...extra,
});

/** A template as the router makes it. */
const template = (data: unknown, from = 'default', n = 0): SeqMessageTemplate => {
  const body = { id: `id-${n}`, from, data, ts: `t${n}` };
  return new SeqMessageTemplate(body, deltaPartOf(body));
};

/** A seeded PRNG (mulberry32): the same "random" cases on every run. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Text with ASCII, 2- and 3-byte UTF-8, astral characters, quotes and control characters (escaped in JSON). */
function sampleText(rand: () => number, length: number): string {
  const pieces = ['a', 'b', ' ', 'é', '中', '😀', '🐉', '"', '\\', '\n', '\u0001', 'x'];
  let s = '';
  while (s.length < length) s += pieces[Math.floor(rand() * pieces.length)];
  return s;
}

/** Split into deltas of 1..max UTF-16 units: cuts may fall between the halves of a surrogate pair. */
function split(rand: () => number, s: string, max: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < s.length; ) {
    const n = 1 + Math.floor(rand() * max);
    out.push(s.slice(i, i + n));
    i += n;
  }
  return out;
}

describe('StreamOffsets', () => {
  it('stamps deltas of a stream it saw open, from 0, per agent name; keeps an offset the agent gave', () => {
    const o = new StreamOffsets();
    o.stamp('a', START('m'));
    o.stamp('b', START('m'));
    expect(o.stamp('a', CONTENT('m', 'Hel'))).toMatchObject({ offset: 0 });
    expect(o.stamp('a', CONTENT('m', 'lo'))).toMatchObject({ offset: 3 });
    // Another agent's message of the same id is another stream.
    expect(o.stamp('b', CONTENT('m', 'xy'))).toMatchObject({ offset: 0 });
    // Given offsets are kept, and continued.
    const given = CONTENT('m', 'abc', { offset: 40 });
    expect(o.stamp('a', given)).toBe(given);
    expect(o.stamp('a', CONTENT('m', 'd'))).toMatchObject({ offset: 43 });
    // Tool call arguments too.
    o.stamp('a', { type: 'TOOL_CALL_START', toolCallId: 't', toolCallName: 'x' });
    expect(o.stamp('a', { type: 'TOOL_CALL_ARGS', toolCallId: 't', delta: '{"a"' })).toMatchObject({ offset: 0 });
    expect(o.stamp('a', { type: 'TOOL_CALL_ARGS', toolCallId: 't', delta: ':1}' })).toMatchObject({ offset: 4 });
  });

  it('leaves a stream it does not know unstamped (never from 0 mid-message), forgets one at its end, stays bounded', () => {
    const o = new StreamOffsets(2);
    const unknown = CONTENT('never-started', 'zzz');
    expect(o.stamp('a', unknown)).toBe(unknown);
    o.stamp('a', START('m'));
    o.stamp('a', CONTENT('m', 'abc'));
    o.stamp('a', { type: 'TEXT_MESSAGE_END', messageId: 'm' });
    expect(o.size).toBe(0);
    expect(o.stamp('a', CONTENT('m', 'late'))).not.toHaveProperty('offset');
    o.stamp('a', START('1'));
    o.stamp('a', START('2'));
    o.stamp('a', START('3'));
    expect(o.size).toBe(2);
    // '1' was evicted: its deltas are left alone rather than restarted at 0.
    expect(o.stamp('a', CONTENT('1', 'x'))).not.toHaveProperty('offset');
    expect(o.stamp('a', CONTENT('3', 'x'))).toMatchObject({ offset: 0 });
    const other = { type: 'RUN_STARTED', runId: 'r' };
    expect(o.stamp('a', other)).toBe(other);
  });
});

describe('RunAgents', () => {
  it('remembers the name streaming each run, forgets it at RUN_FINISHED / RUN_ERROR, bounded per session', () => {
    const r = new RunAgents(3);
    r.note('alpha', { type: 'RUN_STARTED', runId: 'r1' });
    r.note('beta', { type: 'TEXT_MESSAGE_CONTENT', runId: 'r2', delta: 'x' });
    r.note('alpha', { text: 'no run' });
    r.note('alpha', 'plain data');
    expect(r.agentOf('r1')).toBe('alpha');
    expect(r.agentOf('r2')).toBe('beta');
    r.note('alpha', { type: 'RUN_FINISHED', runId: 'r1' });
    r.note('beta', { type: 'RUN_ERROR', runId: 'r2', message: 'x' });
    expect(r.size).toBe(0);
    for (const id of ['a', 'b', 'c', 'd']) r.note('n', { runId: id });
    expect(r.size).toBe(3);
    expect(r.agentOf('a')).toBeUndefined();
    r.note('n', { runId: 'x'.repeat(257) });
    expect(r.agentOf('x'.repeat(257))).toBeUndefined();
  });
});

describe('merged bodies', () => {
  it('render the common merge (seq and id of the last, range, joined delta, first offset) and measure it exactly', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const rand = rng(seed);
      const text = sampleText(rand, 5 + Math.floor(rand() * 200));
      const deltas = split(rand, text, 7);
      const o = new StreamOffsets();
      o.stamp('default', START('m'));
      const frames: SeqFrame[] = [];
      let body: ReturnType<typeof template> | DeltaBody | undefined;
      let seq = 10;
      for (const [i, d] of deltas.entries()) {
        const t = template(o.stamp('default', CONTENT('m', d)), 'default', i);
        const f: SeqFrame = { type: 'message', seq, id: `id-${i}`, from: 'default', data: t.delta!.body.data, ts: `t${i}` };
        frames.push(f);
        body = body ? mergeBodies(body, seq - 1, t, seq, 1 << 20) : t;
        expect(body).toBeDefined();
        seq++;
      }
      const last = seq - 1;
      const rendered = body!.render(last);
      expect(Buffer.byteLength(rendered)).toBe(body!.frameBytes(last));
      const expected = frames.reduce((a, b) => mergeFrames(a, b));
      expect(JSON.parse(rendered)).toEqual(deltas.length > 1 ? expected : frames[0]);
    }
  });

  it('are shared: the same pair merged in two sessions is one body; a cap keeps a merged frame under MAX_MESSAGE_BYTES', () => {
    const o = new StreamOffsets();
    o.stamp('default', START('m'));
    const t1 = template(o.stamp('default', CONTENT('m', 'a'.repeat(100))), 'default', 1);
    const t2 = template(o.stamp('default', CONTENT('m', 'b'.repeat(100))), 'default', 2);
    expect(mergeBodies(t1, 5, t2, 6, 4096)).toBe(mergeBodies(t1, 70, t2, 71, 4096));
    // Not adjacent in this session's seqs: no merge.
    expect(mergeBodies(t1, 5, t2, 7, 4096)).toBeUndefined();
    const fits = mergeBodies(t1, 5, t2, 6, 4096)!;
    expect(mergeBodies(t1, 5, t2, 6, fits.frameBytes(6) - 1)).toBeUndefined();
    // Another agent's delta of the same message id never merges.
    const other = template(CONTENT('m', 'c', { offset: 200 }), 'other', 3);
    expect(mergeBodies(fits, 6, other, 7, 1 << 20)).toBeUndefined();
  });
});

describe('resume buffer coalescing', () => {
  it('holds a 10,000-delta reply in a few frames, charges the budget what it holds, and releases it all', () => {
    const budget = new ResumeBudget(1 << 30);
    const merge = (p: Parameters<typeof mergeBodies>[0], ps: number, n: Parameters<typeof mergeBodies>[2], ns: number) =>
      mergeBodies(p, ps, n, ns, 65536);
    const a = new ResumeBuffer(1000, 4 << 20, budget, merge);
    const b = new ResumeBuffer(1000, 4 << 20, budget, merge);
    const rand = rng(7);
    const text = sampleText(rand, 60_000);
    const deltas = split(rand, text, 11);
    expect(deltas.length).toBeGreaterThan(9_000);
    const o = new StreamOffsets();
    o.stamp('default', START('m'));
    let seq = 0;
    for (const [i, d] of deltas.entries()) {
      const t = template(o.stamp('default', CONTENT('m', d)), 'default', i);
      seq++;
      // A broadcast stream: both sessions hold the same bodies (and so share the merges).
      a.pushShared(seq, 'message', t);
      b.pushShared(seq, 'message', t);
    }
    const held = a.after(0);
    expect(held.length).toBeLessThan(20);
    const assembler = new TextAssembler();
    for (const f of held) {
      const frame = JSON.parse(frameText(f)) as SeqFrame;
      expect(Buffer.byteLength(frameText(f))).toBeLessThanOrEqual(65536);
      assembler.apply(frame.data as { delta: string; offset: number }, 'm');
    }
    expect(assembler.text('m')).toBe(text);
    // Charged once for both sessions: each body's bytes + the per-frame overhead of each holder.
    const bodies = new Set(held.map((f) => f.body!));
    const expected = [...bodies].reduce((n, body) => n + body.bodyBytes, 0) + 2 * held.length * FRAME_OVERHEAD_BYTES;
    expect(budget.bytes).toBe(expected);
    expect(b.after(0).map((f) => f.body)).toEqual(held.map((f) => f.body));
    a.dispose();
    b.dispose();
    expect(budget.bytes).toBe(0);
  });

  it('merges only with the tail: a frame of its own between two deltas keeps them apart', () => {
    const budget = new ResumeBudget(1 << 30);
    const buf = new ResumeBuffer(1000, 4 << 20, budget, (p, ps, n, ns) => mergeBodies(p, ps, n, ns, 65536));
    const o = new StreamOffsets();
    o.stamp('default', START('m'));
    buf.pushShared(1, 'message', template(o.stamp('default', CONTENT('m', 'ab'))));
    buf.pushShared(2, 'message', template(o.stamp('default', CONTENT('m', 'cd'))));
    buf.push(3, 'system', '{"type":"system","seq":3,"event":"agent.connected","agent":"x","ts":""}');
    buf.pushShared(4, 'message', template(o.stamp('default', CONTENT('m', 'ef'))));
    expect(buf.after(0).map((f) => JSON.parse(frameText(f)).merged ?? f.seq)).toEqual([[1, 2], 3, 4]);
    expect(buf.byteSize).toBe(buf.after(0).reduce((n, f) => n + Buffer.byteLength(frameText(f)), 0));
    buf.dispose();
    expect(budget.bytes).toBe(0);
  });
});
