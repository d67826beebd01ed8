/** brokerTsMs: the broker's `ts` read from a frame's last bytes equals Date.parse of it. */
import { describe, expect, it } from 'vitest';
import { brokerTsMs } from '../src/upstream/sent-at.ts';

const frame = (ts: string, rest = '"data":{"x":1}') => Buffer.from(`{"type":"message","seq":3,${rest},"ts":"${ts}"}`);

describe('brokerTsMs', () => {
  it('reads a toISOString ts as Date.parse does', () => {
    const around = Array.from({ length: 300 }, (_, i) => 1_764_090_000_000 + Math.floor(Math.random() * 200_000) * (i % 3 === 0 ? 1000 : 1));
    for (const t of [0, 1_764_090_000_123, Date.now(), Date.UTC(2024, 1, 29, 23, 59, 59, 999), ...around]) {
      const iso = new Date(t).toISOString();
      expect(brokerTsMs(frame(iso))).toBe(Date.parse(iso));
    }
  });

  it('answers from its cache of the minute only for the same minute', () => {
    const a = '2026-11-25T17:00:00.123Z';
    const b = '2026-11-25T17:01:59.999Z';
    expect(brokerTsMs(frame(a))).toBe(Date.parse(a));
    expect(brokerTsMs(frame(a, '"data":"other"'))).toBe(Date.parse(a));
    expect(brokerTsMs(frame(b))).toBe(Date.parse(b));
    expect(brokerTsMs(frame('2026-11-25T17:00:00.00xZ'))).toBe(undefined);
    expect(brokerTsMs(frame('2026-11-25T17:01:60.000Z'))).toBe(undefined);
    expect(brokerTsMs(frame(b))).toBe(Date.parse(b));
    expect(brokerTsMs(frame('2026-11-25T17:01:00.000Z'))).toBe(Date.parse('2026-11-25T17:01:00.000Z'));
    expect(brokerTsMs(frame('2026-11-26T17:01:00.000Z'))).toBe(Date.parse('2026-11-26T17:01:00.000Z'));
  });

  it('reads the ts before accepteds riding on the frame (accepted=inline), given where its own members end', () => {
    const ts = '2026-11-25T17:00:00.123Z';
    const own = frame(ts).toString();
    const carrier = Buffer.from(`${own.slice(0, -1)},"accepted":["c-1","c-2"]}`);
    const end = own.length - 1;
    expect(brokerTsMs(carrier, end)).toBe(Date.parse(ts));
    expect(brokerTsMs(carrier)).toBeUndefined();
    const odd = frame('2026-11-25T17:00:00.5Z').toString();
    expect(brokerTsMs(Buffer.from(`${odd.slice(0, -1)},"accepted":["c-1"]}`), odd.length - 1)).toBe(Date.parse('2026-11-25T17:00:00.5Z'));
  });

  it('falls back to the regex for other fractions, and gives undefined without a ts last', () => {
    expect(brokerTsMs(frame('2026-11-25T17:00:00.5Z'))).toBe(Date.parse('2026-11-25T17:00:00.5Z'));
    expect(brokerTsMs(frame('2026-11-25T17:00:00Z'))).toBe(Date.parse('2026-11-25T17:00:00Z'));
    expect(brokerTsMs(Buffer.from('{"type":"welcome","clientId":"abcdefghijklmnopqrstuvwxyz0123456789"}'))).toBeUndefined();
    expect(brokerTsMs(frame('2026-13-25T17:00:00.000Z'))).toBeUndefined();
    expect(brokerTsMs(frame('not a time at all, really.'))).toBeUndefined();
    expect(brokerTsMs(Buffer.from('{}'))).toBeUndefined();
  });
});
