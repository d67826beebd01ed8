import { describe, expect, it } from 'vitest';
import { validate, version } from 'uuid';
import { IDS_PER_FILL, V7Ids, newMessageId } from '../src/ids.ts';

describe('message ids (uuid v7 from a random pool)', () => {
  it('are valid, unique and strictly increasing across several pool refills', () => {
    const ids = Array.from({ length: IDS_PER_FILL * 4 + 3 }, () => newMessageId());
    for (const id of ids.slice(0, 5)) {
      expect(validate(id)).toBe(true);
      expect(version(id)).toBe(7);
    }
    expect(new Set(ids).size).toBe(ids.length);
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!, `${ids[i - 1]} < ${ids[i]}`).toBe(true);
  });

  it('carry the time and keep counting within one millisecond (and when the clock steps back)', () => {
    let t = 1_700_000_000_000;
    const gen = new V7Ids(4, () => t);
    const same = Array.from({ length: 10 }, () => gen.next());
    const ms = (id: string) => parseInt(id.replace(/-/g, '').slice(0, 12), 16);
    expect(same.every((id) => ms(id) === t)).toBe(true);
    expect([...same].sort()).toEqual(same);
    expect(new Set(same).size).toBe(10);
    t -= 5; // clock stepped back: still after the ids already given
    const later = gen.next();
    expect(later > same.at(-1)!).toBe(true);
    t += 100;
    expect(ms(gen.next())).toBe(t);
  });

  it('use fresh random bytes for every id (no slice of the pool is reused)', () => {
    const gen = new V7Ids(2, () => 1); // same ms: the last 5 bytes are random only
    const tails = Array.from({ length: 50 }, () => gen.next().slice(-10));
    expect(new Set(tails).size).toBe(50);
  });
});
