/**
 * The intake of a session this broker holds (store/redis/owned-intake.ts), on the real Redis: one
 * round trip for a connection's first batch, then answers from memory that are the script's answers
 * (same bucket, same abuse count, same duplicates), the bucket written through so another broker
 * finds it, the address moved on by identity changes and re-read at the refresh, state per
 * connection and gone with it.
 */
import { FLOOD_BURSTS } from '@agent-bridge/common';
import { describe, expect, it } from 'vitest';
import { RedisAckRecords } from '../src/store/redis/ack-records-redis.ts';
import { RedisClientIntake } from '../src/store/redis/client-intake-redis.ts';
import { Keys } from '../src/store/redis/keys.ts';
import { OwnedClientIntake } from '../src/store/redis/owned-intake.ts';
import { redisRun } from './redis-run.ts';

const { redis, prefix } = redisRun('abowned');
const RATE = 1;
const BURST = 5;

/** One broker's view: its ack records, the script intake (counted) and the owned intake over it. */
function broker(keys: Keys, refreshMs = 60_000) {
  const acks = new RedisAckRecords(redis, keys);
  const script = new RedisClientIntake(redis, keys, RATE, BURST, acks.pending);
  let trips = 0;
  const wants: string[] = [];
  const counted = {
    bucket: script.bucket,
    take: (clientId: string, ids: string[]) => {
      trips++;
      return script.take(clientId, ids);
    },
    takeWithState: (clientId: string, ids: string[], want: 'none' | 'bucket' | 'all') => {
      trips++;
      wants.push(want);
      return script.takeWithState(clientId, ids, want);
    },
  };
  const owned = new OwnedClientIntake(counted, redis, keys, () => undefined, refreshMs);
  acks.onAccepted = (clientId, id) => owned.accepted(clientId, id);
  return { acks, script, owned, trips: () => trips, wants };
}

const verdicts = (b: { answers: { verdict: string; duplicate: boolean }[] }) => b.answers.map((a) => (a.duplicate ? 'dup' : a.verdict));

describe('OwnedClientIntake', () => {
  it('takes one round trip for a connection, then answers as the script would: the same tokens and the same abuse count', async () => {
    const keys = new Keys(prefix());
    const a = broker(keys);
    const conn = {};
    // Enough frames, in batches of 7, to pass the burst and then the abuse count.
    const frames = BURST + FLOOD_BURSTS * BURST + 3;
    const local: string[] = [];
    const scripted: string[] = [];
    for (let i = 0; i < frames; i += 7) {
      const n = Math.min(7, frames - i);
      local.push(...verdicts(await a.owned.take('local', Array(n).fill(''), conn)));
      scripted.push(...verdicts(await a.script.take('scripted', Array(n).fill(''))));
    }
    expect(a.trips()).toBe(1);
    expect(local).toEqual(scripted);
    expect(local.slice(0, BURST)).toEqual(Array(BURST).fill('ok'));
    expect(local).toContain('limited');
    expect(local.at(-1)).toBe('abuse');
  });

  it('writes the bucket through: another broker (another connection) finds it spent', async () => {
    const keys = new Keys(prefix());
    const a = broker(keys);
    const b = broker(keys);
    const first = {};
    expect(verdicts(await a.owned.take('c', [''], first))).toEqual(['ok']);
    expect(verdicts(await a.owned.take('c', Array(BURST - 1).fill(''), first))).toEqual(Array(BURST - 1).fill('ok'));
    expect(a.trips()).toBe(1);
    // The client reconnects at broker b: no token left, as if it had stayed.
    expect(verdicts(await b.owned.take('c', [''], {}))).toEqual(['limited']);
    expect(b.trips()).toBe(1);
  });

  it('knows the ids the session recorded before the connection and those accepted since; a new id is not a duplicate', async () => {
    const keys = new Keys(prefix());
    const a = broker(keys);
    // Recorded by an earlier connection (written to Redis).
    a.acks.acceptedFromClient('c', 'old-1');
    a.acks.pending.flushAll();
    await redis.cmd(['PING']);
    const conn = {};
    expect(verdicts(await a.owned.take('c', ['x-1'], conn))).toEqual(['ok']);
    a.acks.acceptedFromClient('c', 'x-1');
    expect(verdicts(await a.owned.take('c', ['old-1', 'x-1', 'x-2'], conn))).toEqual(['dup', 'dup', 'ok']);
    expect(a.trips()).toBe(1);
    // And Redis agrees once the record is written (the ids themselves are recorded as before).
    a.acks.pending.flushAll();
    await redis.cmd(['PING']);
    expect([await a.acks.seenFromClient('c', 'old-1'), await a.acks.seenFromClient('c', 'x-1'), await a.acks.seenFromClient('c', 'x-2')]).toEqual([true, true, false]);
  });

  it('keeps state per connection: a new one starts with a round trip, a gone one leaves nothing', async () => {
    const keys = new Keys(prefix());
    const a = broker(keys);
    const one = {};
    const two = {};
    await a.owned.take('c', [''], one);
    await a.owned.take('c', [''], one);
    expect(a.trips()).toBe(1);
    await a.owned.take('c', [''], two);
    expect(a.trips()).toBe(2);
    a.owned.forget('c', one);
    expect(a.owned.size).toBe(1);
    a.owned.forget('c', two);
    expect(a.owned.size).toBe(0);
    // A round trip of a connection that went meanwhile installs nothing.
    const late = a.owned.take('c', [''], one);
    await late;
    expect(a.owned.size).toBe(0);
  });

  it('moves the address on at an identity change, and reads the record again at the refresh (the bucket with it, not the ids)', async () => {
    const keys = new Keys(prefix());
    const a = broker(keys, 100);
    const conn = {};
    const addr = '0x' + 'ab'.repeat(20);
    await redis.cmd(['HSET', keys.session('c'), 'address', addr]);
    expect((await a.owned.take('c', [''], conn)).address).toBe(addr);
    a.owned.identity('c', null);
    expect((await a.owned.take('c', [''], conn)).address).toBeNull();
    expect(a.trips()).toBe(1);
    // Changed where this broker did not hear it: seen after the refresh.
    const other = '0x' + 'cd'.repeat(20);
    await redis.cmd(['HSET', keys.session('c'), 'address', other]);
    await new Promise((r) => setTimeout(r, 150));
    expect((await a.owned.take('c', [''], conn)).address).toBe(other);
    expect(a.trips()).toBe(2);
    // The ids are read once per connection; the refresh asks for the bucket alone.
    expect(a.wants).toEqual(['all', 'bucket']);
  });
});
