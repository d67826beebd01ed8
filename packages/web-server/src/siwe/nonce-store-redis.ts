/**
 * The shared NonceStore of cluster mode (PROTOCOL §10): a challenge issued by one web server
 * verifies once at any other. Keys (every one with a TTL):
 *
 * - `<prefix>:web:siwe:n:<nonce>`: a hash {exp, used, owner, msg}, kept until KEEP_AFTER_MS past
 *   the nonce's expiry so a replay is told `used` (and a late one `expired`) rather than `unknown`.
 * - `<prefix>:web:siwe:o:<owner>`: a sorted set of the owner's outstanding nonces (score = expiry),
 *   for SIWE_NONCES_PER_IP across all web servers; it lives as long as its newest nonce.
 *
 * consume is one Lua script on the nonce's key (check and mark used in one step), so of any number
 * of concurrent verifications on any web servers exactly one gets `ok`. Each script touches one
 * key, so the store also works on Redis Cluster. Redis unreachable: every call throws
 * StoreUnavailable (HTTP 503 `unavailable`).
 */
import { storeCall } from '../cluster/unavailable.ts';
import type { WebRedis } from '../cluster/redis.ts';
import { generateNonce, NonceRefused, type IssuedNonce, type IssueOptions, type NonceState, type NonceStore } from './nonce-store.ts';

const KEEP_AFTER_MS = 60_000;

/** KEYS[1] owner set; ARGV now, exp, nonce, max, ttlMs → 1 reserved, 0 over the limit. */
const RESERVE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[5]) then redis.call('PEXPIRE', KEYS[1], ARGV[5]) end
return 1`;

/** KEYS[1] nonce hash; ARGV ttlMs, field, value, … (written with its TTL in one step). */
const STORE = `
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1`;

/** KEYS[1] nonce hash; ARGV now, burn ('1' to mark used) → state, owner. */
const CONSUME = `
local v = redis.call('HMGET', KEYS[1], 'exp', 'used', 'owner')
if not v[1] then return {'unknown', false} end
if v[2] == '1' then return {'used', false} end
if tonumber(v[1]) <= tonumber(ARGV[1]) then return {'expired', false} end
if ARGV[2] == '1' then redis.call('HSET', KEYS[1], 'used', '1') end
return {'ok', v[3] or false}`;

export interface RedisNonceStoreOptions {
  redis: WebRedis;
  /** Unexpired unused nonces per owner, across every web server (SIWE_NONCES_PER_IP). */
  maxPerOwner?: number;
  now?: () => number;
}

export class RedisNonceStore implements NonceStore {
  private readonly now: () => number;
  private readonly maxPerOwner: number;

  constructor(private readonly opts: RedisNonceStoreOptions) {
    this.now = opts.now ?? Date.now;
    this.maxPerOwner = opts.maxPerOwner ?? Number.POSITIVE_INFINITY;
  }

  private nonceKey(nonce: string): string {
    return this.opts.redis.key('siwe', 'n', nonce);
  }

  private ownerKey(owner: string): string {
    return this.opts.redis.key('siwe', 'o', owner);
  }

  async issue(ttlMs: number, opts: IssueOptions = {}): Promise<IssuedNonce> {
    const link = this.opts.redis.link;
    const nonce = generateNonce();
    const now = this.now();
    const expiresAtMs = now + ttlMs;
    const expiresAt = new Date(expiresAtMs);
    const message = opts.message?.(nonce, expiresAt);
    const owner = opts.owner;
    if (owner !== undefined && Number.isFinite(this.maxPerOwner)) {
      const ok = await storeCall('redis', () =>
        link.eval<number>(RESERVE, [this.ownerKey(owner)], [String(now), String(expiresAtMs), nonce, String(this.maxPerOwner), String(ttlMs + KEEP_AFTER_MS)]),
      );
      if (Number(ok) !== 1) throw new NonceRefused('owner_limit');
    }
    const fields = ['exp', String(expiresAtMs), 'used', '0'];
    if (owner !== undefined) fields.push('owner', owner);
    if (message !== undefined) fields.push('msg', message);
    const key = this.nonceKey(nonce);
    await storeCall('redis', () => link.eval(STORE, [key], [String(ttlMs + KEEP_AFTER_MS), ...fields]));
    return message === undefined ? { nonce, expiresAt } : { nonce, expiresAt, message };
  }

  async issuedMessage(nonce: string): Promise<string | undefined> {
    const msg = await storeCall('redis', () => this.opts.redis.link.cmd<string | null>(['HGET', this.nonceKey(nonce), 'msg']));
    return msg ?? undefined;
  }

  async peek(nonce: string): Promise<NonceState> {
    return (await this.run(nonce, false))[0];
  }

  async consume(nonce: string): Promise<NonceState> {
    const [state, owner] = await this.run(nonce, true);
    // The owner's count: best effort (its entry also ages out with the nonce's expiry).
    if (state === 'ok' && owner) await this.opts.redis.link.cmd(['ZREM', this.ownerKey(owner), nonce]).catch(() => undefined);
    return state;
  }

  close(): void {
    // The connection belongs to the web server.
  }

  private async run(nonce: string, burn: boolean): Promise<[NonceState, string | undefined]> {
    const out = await storeCall('redis', () =>
      this.opts.redis.link.eval<[string, string | null]>(CONSUME, [this.nonceKey(nonce)], [String(this.now()), burn ? '1' : '0']),
    );
    const state = out[0] as NonceState;
    return [state, typeof out[1] === 'string' ? out[1] : undefined];
  }
}
