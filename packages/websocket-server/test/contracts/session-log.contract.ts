/**
 * What every SessionLog must do (store/session-log.ts): seq allocation with the frame, complete or
 * refused replays (never partial), acks, fresh starts, bounds and coalescing of run deltas.
 * `make` gives a fresh log with these bounds.
 */
import { describe, expect, it } from 'vitest';
import { deltaPartOf } from '../../src/coalescing.ts';
import { SeqMessageTemplate } from '../../src/frames-out.ts';
import { frameText } from '../../src/resume-buffer.ts';
import type { LogEntry, LoggedFrame, SessionLog } from '../../src/store/session-log.ts';

export interface LogBounds {
  frames: number;
  bytes: number;
  budgetBytes: number;
  maxMessageBytes: number;
}
export type MakeSessionLog = (bounds: LogBounds) => SessionLog | Promise<SessionLog>;

const roomy: LogBounds = { frames: 1000, bytes: 1 << 20, budgetBytes: 1 << 24, maxMessageBytes: 65536 };
const system = (n: number): LogEntry => ({ type: 'system', render: (seq) => JSON.stringify({ type: 'system', seq, event: 'agent.connected', agent: `a${n}`, ts: 't' }) });
const message = (data: unknown): LogEntry => {
  const body = { id: 'i', from: 'echo', data, ts: 't' };
  return { type: 'message', body: new SeqMessageTemplate(body, deltaPartOf(body)) };
};
const seqs = (frames: LoggedFrame[]) => frames.map((f) => f.seq);
const parsed = (f: LoggedFrame) => JSON.parse(frameText({ ...f, bytes: 0 }));

/**
 * `shared`: a log in a shared store (Redis) does not coalesce run deltas (PROTOCOL §9 makes it
 * optional) and holds its bytes outside this process (bytes() is the memory budget's).
 */
export function describeSessionLogContract(name: string, make: MakeSessionLog, opts: { shared?: boolean } = {}): void {
  describe(`SessionLog contract: ${name}`, () => {
    it('append allocates 1, 2, 3 … per session, with the frame rendered at its seq', async () => {
      const log = await make(roomy);
      expect((await log.append('a', system(1))).seq).toBe(1);
      expect((await log.append('a', system(2))).seq).toBe(2);
      expect((await log.append('b', system(3))).seq).toBe(1);
      const f = await log.append('a', message({ text: 'hi' }));
      expect(parsed(f)).toMatchObject({ type: 'message', seq: 3, data: { text: 'hi' } });
      expect(await log.lastSeq('a')).toBe(3);
      expect(await log.lastSeq('nobody')).toBe(0);
    });

    it('concurrent appends never share a seq', async () => {
      const log = await make(roomy);
      const frames = await Promise.all(Array.from({ length: 50 }, (_, i) => log.append('a', system(i))));
      expect(seqs(frames).sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    });

    it('appends made in one turn take their seqs in call order, and a read, ack or reset asked next sees them', async () => {
      const log = await make(roomy);
      const first = [log.append('a', system(1)), log.append('b', system(2)), log.append('a', system(3))];
      const read = log.after('a', 0);
      expect(seqs(await Promise.all(first))).toEqual([1, 1, 2]);
      expect(seqs((await read).frames)).toEqual([1, 2]);
      const more = [log.append('a', system(4)), log.append('a', system(5))];
      const acked = log.ack('a', 4);
      expect(seqs(await Promise.all(more))).toEqual([3, 4]);
      await acked;
      expect(seqs((await log.after('a', 4)).frames)).toEqual([]);
      const last = log.append('a', system(6));
      const reset = log.reset('a');
      expect((await last).seq).toBe(5);
      await reset;
      // The reset came after the append: the frame is gone with the rest, the counter goes on.
      expect(await log.after('a', 4)).toMatchObject({ complete: false });
      expect((await log.append('a', system(7))).seq).toBe(6);
    });

    it('after(lastSeq) answers every later frame in order, complete', async () => {
      const log = await make(roomy);
      for (let i = 0; i < 5; i++) await log.append('a', system(i));
      const r = await log.after('a', 2);
      expect(r.complete).toBe(true);
      expect(seqs(r.frames)).toEqual([3, 4, 5]);
      expect(parsed(r.frames[0]!)).toMatchObject({ seq: 3 });
      expect(await log.after('a', 5)).toMatchObject({ complete: true, frames: [] });
    });

    it('a seq beyond the last is not a replay (complete: false)', async () => {
      const log = await make(roomy);
      await log.append('a', system(1));
      expect((await log.after('a', 7)).complete).toBe(false);
      expect((await log.after('nobody', 3)).complete).toBe(false);
    });

    it('frames gone to the per-session bound make an older replay incomplete, never partial', async () => {
      const log = await make({ ...roomy, frames: 3 });
      for (let i = 0; i < 5; i++) await log.append('a', system(i));
      expect((await log.after('a', 1)).complete).toBe(false);
      expect(seqs((await log.after('a', 2)).frames)).toEqual([3, 4, 5]);
    });

    it('ack frees frames; an ack beyond the last seq counts as an ack of the last', async () => {
      const log = await make(roomy);
      for (let i = 0; i < 4; i++) await log.append('a', system(i));
      await log.ack('a', 2);
      expect((await log.after('a', 1)).complete).toBe(false);
      expect(seqs((await log.after('a', 2)).frames)).toEqual([3, 4]);
      await log.ack('a', 99);
      expect(await log.after('a', 4)).toMatchObject({ complete: true, frames: [] });
      // The counter was not moved by the over-ack: the next frame is 5, and it replays after 4.
      expect((await log.append('a', system(5))).seq).toBe(5);
      expect(seqs((await log.after('a', 4)).frames)).toEqual([5]);
    });

    it('reset starts the stream afresh: held frames go, the counter goes on', async () => {
      const log = await make(roomy);
      for (let i = 0; i < 3; i++) await log.append('a', system(i));
      await log.reset('a');
      expect((await log.after('a', 1)).complete).toBe(false);
      expect(await log.after('a', 3)).toMatchObject({ complete: true, frames: [] });
      expect((await log.append('a', system(4))).seq).toBe(4);
    });

    it('drop forgets the session and its counter', async () => {
      const log = await make(roomy);
      await log.append('a', system(1));
      await log.drop('a');
      expect(await log.lastSeq('a')).toBe(0);
      expect((await log.append('a', system(2))).seq).toBe(1);
    });

    it('one shared body appended to several sessions renders with each session own seq', async () => {
      const log = await make(roomy);
      await log.append('a', system(1));
      const entry = message({ text: 'to all' });
      const [fa, fb] = [await log.append('a', entry), await log.append('b', entry)];
      expect(parsed(fa)).toMatchObject({ seq: 2, data: { text: 'to all' } });
      expect(parsed(fb)).toMatchObject({ seq: 1, data: { text: 'to all' } });
    });

    it.skipIf(opts.shared === true)('adjacent deltas of one stream replay as fewer frames that carry the whole text', async () => {
      const log = await make(roomy);
      const parts = ['Hel', 'lo, ', 'wor', 'ld'];
      let offset = 0;
      for (const delta of parts) {
        await log.append('a', message({ type: 'TEXT_MESSAGE_CONTENT', messageId: 'm1', runId: 'r1', delta, offset }));
        offset += delta.length;
      }
      const r = await log.after('a', 0);
      expect(r.complete).toBe(true);
      expect(r.frames.length).toBeLessThan(parts.length);
      const last = parsed(r.frames[r.frames.length - 1]!);
      expect(last.seq).toBe(4);
      expect(r.frames.map((f) => parsed(f).data.delta).join('')).toBe('Hello, world');
    });

    it.skipIf(opts.shared === true)('bytes() counts what is held and falls to 0 when everything is dropped', async () => {
      const log = await make(roomy);
      await log.append('a', system(1));
      expect(await log.bytes()).toBeGreaterThan(0);
      await log.drop('a');
      expect(await log.bytes()).toBe(0);
    });
  });
}
