// common/redis.ts scanKeys on the real Redis: every key of a pattern, a batch at a time, none of
// another prefix; what the test clean-ups, the cluster tools and the web server's revocation
// loading all walk keys with.
import { escapeGlob, scanKeys } from '@agent-bridge/common/redis';
import { describe, expect, it } from 'vitest';
import { redisRun } from './redis-run.ts';

const r = redisRun('scan-keys');

describe('scanKeys', () => {
  it('yields every key matching the pattern over several batches, and none of a neighbouring prefix', async () => {
    const mine = r.prefix();
    const other = `${mine}x`; // same start, another prefix: `${mine}:*` must not match it
    const keys = Array.from({ length: 250 }, (_, i) => `${mine}:k${i}`);
    for (let i = 0; i < keys.length; i += 50) await r.redis.cmd(['MSET', ...keys.slice(i, i + 50).flatMap((k) => [k, '1'])]);
    await r.redis.cmd(['SET', `${other}:k0`, '1']);
    const batches: string[][] = [];
    for await (const batch of scanKeys(r.redis, `${mine}:*`, 20)) batches.push(batch);
    expect(batches.length).toBeGreaterThan(1);
    expect([...new Set(batches.flat())].sort()).toEqual([...keys].sort());
    const none: string[][] = [];
    for await (const batch of scanKeys(r.redis, `${mine}:nothing-*`)) none.push(batch);
    expect(none).toEqual([]);
  });

  it('with escapeGlob, a prefix holding glob characters matches only itself', async () => {
    const base = r.prefix();
    const odd = `${base}:a*[b]?\\c`;
    await r.redis.cmd(['MSET', `${odd}:k1`, '1', `${odd}:k2`, '1', `${base}:aXbYc:k1`, '1', `${base}:a-[b]!\\c:k1`, '1']);
    const found: string[] = [];
    for await (const batch of scanKeys(r.redis, `${escapeGlob(odd)}:*`)) found.push(...batch);
    expect(found.sort()).toEqual([`${odd}:k1`, `${odd}:k2`]);
    // Unescaped, the same prefix is a pattern: it catches another prefix's key (and misses its own).
    const loose: string[] = [];
    for await (const batch of scanKeys(r.redis, `${odd}:*`)) loose.push(...batch);
    expect(loose).toContain(`${base}:aXbYc:k1`);
  });
});
