/** BrokerPool placement (pure logic, no probes): rendezvous ranking and where a (re)dial goes. */
import { describe, expect, it } from 'vitest';
import { BrokerPool } from '../src/upstream/broker-pool.ts';

const URLS = ['ws://a:8080', 'ws://b:8080', 'ws://c:8080'];
const ids = Array.from({ length: 300 }, (_, i) => `client-${i}`);

describe('BrokerPool', () => {
  it('ranks every broker per clientId, the same on every web server whatever the list order', () => {
    const one = new BrokerPool({ urls: URLS });
    const other = new BrokerPool({ urls: [...URLS].reverse() });
    for (const id of ids.slice(0, 20)) {
      expect([...one.ranking(id)].sort()).toEqual([...URLS].sort());
      expect(other.ranking(id)).toEqual(one.ranking(id));
    }
  });

  it('spreads first choices evenly', () => {
    const pool = new BrokerPool({ urls: URLS });
    const counts = new Map<string, number>();
    for (const id of ids) counts.set(pool.pick(id), (counts.get(pool.pick(id)) ?? 0) + 1);
    for (const url of URLS) expect(counts.get(url)).toBeGreaterThan(60);
  });

  it('removing a broker moves only its clients', () => {
    const all = new BrokerPool({ urls: URLS });
    const fewer = new BrokerPool({ urls: URLS.slice(0, 2) });
    for (const id of ids) {
      const first = all.pick(id);
      if (first !== URLS[2]) expect(fewer.pick(id)).toBe(first);
    }
  });

  it('skips brokers known to be down; after a failure goes to the next of the ranking', () => {
    const pool = new BrokerPool({ urls: URLS });
    const id = 'client-7';
    const [first, second, third] = pool.ranking(id);
    expect(pool.pick(id)).toBe(first);
    expect(pool.pick(id, first)).toBe(second);
    expect(pool.pick(id, second)).toBe(third);
    expect(pool.pick(id, third)).toBe(first);
    pool.markDown(first!);
    expect(pool.pick(id)).toBe(second);
    pool.markDown(second!);
    expect(pool.pick(id, first)).toBe(third);
    pool.markUp(first!);
    expect(pool.pick(id)).toBe(first);
  });

  it('with every broker down it still walks the ranking, and anyReady says so', () => {
    const pool = new BrokerPool({ urls: URLS });
    expect(pool.anyReady).toBe(true); // not probed yet
    for (const u of URLS) pool.markDown(u);
    expect(pool.anyReady).toBe(false);
    expect(pool.readyUrls()).toEqual([]);
    const [first, second] = pool.ranking('x');
    expect(pool.pick('x', first)).toBe(second);
  });

  it('one broker: always that one, and a failure does not mark it down', () => {
    const pool = new BrokerPool({ urls: ['ws://only:1'] });
    pool.markDown('ws://only:1');
    expect(pool.anyReady).toBe(true);
    expect(pool.pick('x', 'ws://only:1')).toBe('ws://only:1');
  });
});
