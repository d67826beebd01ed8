/**
 * The client intake (store/client-intake.ts) of a session whose socket this broker holds, answered
 * from this broker's memory between round trips to Redis.
 *
 * Why: the intake script is one of the three Redis round trips every client message of a cluster
 * waits for in turn (intake, then the hold and its publish, then the reply's append); with 200
 * messages in flight the cluster's echo throughput is that chain's latency (docs/performance.md,
 * "The §8 reference sets as hashes, and the Redis round trip…": 0.58× → 0.61× single-process).
 *
 * Why it is safe: a session's socket is on one broker at a time (§10, fenced: a newer connection
 * anywhere closes this one with 4500), so while a connection lives, this broker is the only writer
 * of its bucket and the only acceptor of its ids. The first batch of a connection, and the first
 * after REFRESH_MS, runs the Redis script as before, which also answers the bucket it left and
 * every id the session has recorded; the batches in between are answered here:
 *
 * - the token bucket is the project's one limiter (common/rate-limit.ts, which the script mirrors),
 *   started from the bucket the script left and read at one instant per batch as the script does;
 *   each batch's end state is written through to Redis (not awaited, one pipelined HSET +
 *   PEXPIRE), so a reconnect to another broker finds it as it was;
 * - an id is a duplicate if the session had recorded it (loaded) or accepted it since (told by
 *   RedisAckRecords); the ids themselves are still recorded in Redis as before
 *   (pending-id-records.ts). A resend whose first copy was held but never accepted is recognised
 *   by the hold's references, as it always was;
 * - the address is the record's as of the last round trip, moved on at once by an identity change
 *   this broker makes or hears on the bus, and read again at the next refresh in any case.
 *
 * State is per connection (a new socket of the session starts with a round trip) and bounded: the
 * last 2 × CLIENT_IDS_KEPT ids per connected session, as 52-bit hashes (acks-ids.ts: 24 KB at most).
 */
import type { RedisLink } from '@agent-bridge/common/redis';
import { CLIENT_IDS_KEPT, HashRing, idHash } from '../../acks-ids.ts';
import { ClientRateLimiter } from '../../rate-limiter.ts';
import type { ClientIntake, IntakeAnswer, IntakeBatch } from '../client-intake.ts';
import type { RedisClientIntake } from './client-intake-redis.ts';
import type { Keys } from './keys.ts';
import { bucketWrite } from './rate-limit-store-redis.ts';

/** How long answers come from memory before the next round trip re-reads the session. */
export const REFRESH_MS = 1000;
/** Ids kept per connected session: the most the Redis set holds (two generations of 1,000). */
const IDS_KEPT = 2 * CLIENT_IDS_KEPT;

interface Owned {
  /** The connection this state belongs to. */
  conn: object;
  limiter: ClientRateLimiter;
  /** The instant the limiter reads: one per batch, as the script's `now`. */
  clock: number;
  /** Hashes of the ids it recorded or accepted, the newest IDS_KEPT (acks-ids.ts's ring). */
  ids: HashRing;
  address: string | null;
  syncedAt: number;
}

export class OwnedClientIntake implements ClientIntake {
  private readonly owned = new Map<string, Owned>();
  /** Connections that went: a round trip of theirs still in flight installs nothing. */
  private readonly gone = new WeakSet<object>();

  /** `inner`: the script intake; its bucket's rate and burst are the ones answered by here too. */
  constructor(
    private readonly inner: Pick<RedisClientIntake, 'take' | 'takeWithState' | 'bucket'>,
    private readonly redis: RedisLink,
    private readonly keys: Keys,
    private readonly onError: (err: unknown) => void = () => undefined,
    private readonly refreshMs = REFRESH_MS,
  ) {}

  async take(clientId: string, ids: string[], conn?: object): Promise<IntakeBatch> {
    const now = Date.now();
    const o = conn === undefined ? undefined : this.owned.get(clientId);
    if (o !== undefined && o.conn === conn && now - o.syncedAt < this.refreshMs) return this.local(clientId, o, ids, now);
    return this.sync(clientId, ids, conn, o?.conn === conn ? o : undefined);
  }

  /** A round trip: the script answers the batch, and with it the state it left. */
  private async sync(clientId: string, ids: string[], conn: object | undefined, had: Owned | undefined): Promise<IntakeBatch> {
    if (conn === undefined) return this.inner.take(clientId, ids);
    // The ids once per connection (up to 2,000); after that, those it accepts are added here.
    const batch = await this.inner.takeWithState(clientId, ids, had ? 'bucket' : 'all');
    const state = batch.state;
    if (state === undefined) return batch;
    let known: HashRing;
    if (had) known = had.ids;
    else {
      known = new HashRing(IDS_KEPT);
      for (const id of state.ids) known.add(idHash(id));
    }
    const clock = Date.now();
    const o = { conn, clock, ids: known, address: batch.address, syncedAt: clock } as Owned;
    o.limiter = new ClientRateLimiter(this.inner.bucket.ratePerSec, this.inner.bucket.burst, () => o.clock, { tokens: state.tokens, last: state.ts, refused: state.refused });
    // The connection asking last holds the entry (two of one session overlap only while the older
    // is being replaced: each answers from its own state or takes a round trip, never another's).
    if (!this.gone.has(conn)) this.owned.set(clientId, o);
    return { answers: batch.answers, address: batch.address };
  }

  /** The script's answers (a token per frame in order, the id lookup), here. */
  private local(clientId: string, o: Owned, ids: string[], now: number): IntakeBatch {
    // The script reads the clock once per batch; so does the limiter (a clock going back refills nothing).
    o.clock = Math.max(now, o.clock);
    const answers: IntakeAnswer[] = [];
    for (const id of ids) {
      const verdict = o.limiter.check();
      answers.push({ verdict, duplicate: verdict === 'ok' && id !== '' && o.ids.has(idHash(id)) });
    }
    // Written through: the bucket in Redis is this one, for a reconnect to any broker.
    const key = this.keys.rate(clientId);
    this.redis.cmd(bucketWrite(key, o.limiter.state)).catch(this.onError);
    this.redis.cmd(['PEXPIRE', key, this.inner.bucket.ttl]).catch(this.onError);
    return { answers, address: o.address };
  }

  /** An id of this session was accepted (RedisAckRecords): a resend of it is a duplicate. */
  accepted(clientId: string, id: string): void {
    this.owned.get(clientId)?.ids.add(idHash(id));
  }

  /** The session's address changed (this broker's identity route, or another's on the bus). */
  identity(clientId: string, address: string | null): void {
    const o = this.owned.get(clientId);
    if (o) o.address = address;
  }

  /** The connection went: its state goes (a newer connection's is left alone). */
  forget(clientId: string, conn: object): void {
    this.gone.add(conn);
    if (this.owned.get(clientId)?.conn === conn) this.owned.delete(clientId);
  }

  get size(): number {
    return this.owned.size;
  }
}
