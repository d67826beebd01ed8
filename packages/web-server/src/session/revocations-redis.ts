/**
 * Sign-out revocations shared by every web server of a cluster (PROTOCOL §10). A sign-out is
 * written to Redis (`<prefix>:web:rv:<clientId>` = the second of the sign-out, expiring once the
 * newest token it revokes has expired) and published on `<prefix>:web:rv`; every web server keeps
 * the records in a local MemoryRevocations (so checking a token stays synchronous), applies each
 * published sign-out, and reloads every record from Redis whenever its subscription (re)connects,
 * so a sign-out published while it was cut off is not missed. Another web server refuses the old
 * tokens from the moment the publication reaches it (milliseconds).
 */
import type { Logger } from '@agent-bridge/common';
import { type RedisLink, scanKeys } from '@agent-bridge/common/redis';
import { storeCall } from '../cluster/unavailable.ts';
import type { WebRedis } from '../cluster/redis.ts';
import type { RevocationStore } from './revocations.ts';
import { MemoryRevocations } from './revocations-memory.ts';

export interface RedisRevocationsOptions {
  redis: WebRedis;
  ttlS: number;
  /** Records kept locally at most (as MemoryRevocations). */
  maxEntries?: number;
  nowS?: () => number;
  log: Logger;
}

/** Keys read per SCAN / MGET round while reloading. */
const LOAD_BATCH = 500;

export class RedisRevocations implements RevocationStore {
  private readonly local: MemoryRevocations;
  private readonly nowS: () => number;
  private readonly channel: string;
  private sub: RedisLink | undefined;
  private subscribed = false;
  private closed = false;

  constructor(private readonly opts: RedisRevocationsOptions) {
    this.nowS = opts.nowS ?? (() => Math.floor(Date.now() / 1000));
    this.local = new MemoryRevocations({ ttlS: opts.ttlS, maxEntries: opts.maxEntries, nowS: this.nowS });
    this.channel = opts.redis.key('rv');
  }

  /** Subscribe and load what is recorded; resolves once done or after the first failure (it keeps retrying). */
  async start(): Promise<void> {
    let first: (() => void) | undefined;
    const ready = new Promise<void>((r) => {
      first = r;
    });
    this.sub = this.opts.redis.link.duplicate('web-revocations', (up) => {
      if (up) void this.sync().finally(() => first?.());
    });
    await this.sub.start();
    if (!this.sub.up) return;
    await Promise.race([ready, new Promise((r) => setTimeout(r, 2500).unref())]);
  }

  async revoke(clientId: string): Promise<boolean> {
    if (!this.local.hasRoom() && this.local.minIat(clientId) === undefined) return false;
    const now = this.nowS();
    const link = this.opts.redis.link;
    await storeCall('redis', async () => {
      await link.cmd(['SET', this.key(clientId), String(now), 'EX', String(this.opts.ttlS + 1)]);
      await link.cmd(['PUBLISH', this.channel, `${now} ${clientId}`]);
    });
    return this.local.record(clientId, now);
  }

  isRevoked(clientId: string, iatS: number): boolean {
    return this.local.isRevoked(clientId, iatS);
  }

  minIat(clientId: string): number | undefined {
    return this.local.minIat(clientId);
  }

  close(): void {
    this.closed = true;
    this.local.close();
    void this.sub?.close();
  }

  private key(clientId: string): string {
    return this.opts.redis.key('rv', clientId);
  }

  /** (Re)connected: subscribe once (node-redis resubscribes after a reconnect), then reload every record. */
  private async sync(): Promise<void> {
    const sub = this.sub;
    if (!sub || this.closed) return;
    try {
      if (!this.subscribed) {
        await sub.client.subscribe(this.channel, (message: string) => this.apply(message));
        this.subscribed = true;
      }
      await this.load();
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, 'revocations: could not sync from redis; retrying on the next reconnect');
    }
  }

  private apply(message: string): void {
    const space = message.indexOf(' ');
    const at = Number(message.slice(0, space));
    if (space <= 0 || !Number.isInteger(at)) return;
    this.local.record(message.slice(space + 1), at);
  }

  private async load(): Promise<void> {
    const link = this.opts.redis.link;
    const prefix = this.key('');
    for await (const keys of scanKeys(link, `${prefix}*`, LOAD_BATCH)) {
      const values = await link.cmd<(string | null)[]>(['MGET', ...keys]);
      keys.forEach((k, i) => {
        const at = Number(values[i]);
        if (values[i] !== null && Number.isInteger(at)) this.local.record(k.slice(prefix.length), at);
      });
    }
  }
}
