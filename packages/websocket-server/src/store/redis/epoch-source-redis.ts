/**
 * The cluster's epoch (PROTOCOL §10): one key every broker reads, set once by whoever comes
 * first. It changes only when Redis lost it (restarted empty, flushed): the first broker to see
 * it missing sets a new one, and every broker, noticing within a second, closes its sockets with
 * 1012 so each client resumes into the new seq space with `resumed:false`.
 */
import { randomUUID } from 'node:crypto';
import type { RedisLink } from '@agent-bridge/common/redis';
import type { EpochSource } from '../epoch-source.ts';
import type { Keys } from './keys.ts';

export const EPOCH_CHECK_MS = 1000;

export class RedisEpochSource implements EpochSource {
  private epoch: string | undefined;
  private readonly listeners: ((epoch: string) => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  /**
   * False from a reconnect to Redis until the epoch was read again: Redis may be back empty, and a
   * socket accepted meanwhile would be welcomed into the old epoch (a client told `resumed` for a
   * seq space that is gone). The stores count as unreachable until then (redis-stores.ts).
   */
  private checked = true;

  constructor(
    private readonly redis: RedisLink,
    private readonly keys: Keys,
  ) {
    redis.whenUp(() => {
      if (this.epoch === undefined) return;
      this.checked = false;
      void this.check().catch(() => undefined);
    });
  }

  /** The epoch was read since the last reconnect to Redis. */
  get verified(): boolean {
    return this.checked;
  }

  /** The epoch; a broker started while Redis is away waits here for it (it never exits for it). */
  async current(): Promise<string> {
    while (this.epoch === undefined) {
      try {
        this.epoch = await this.read();
      } catch {
        await Promise.race([this.redis.ready(), new Promise((r) => setTimeout(r, 1000).unref())]);
      }
    }
    return this.epoch;
  }

  onChange(listener: (epoch: string) => void): void {
    this.listeners.push(listener);
  }

  start(): void {
    this.timer = setInterval(() => void this.check().catch(() => undefined), EPOCH_CHECK_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Read it again (tests call it directly); a new value is announced. */
  async check(): Promise<void> {
    if (this.epoch === undefined || !this.redis.up) return;
    const now = await this.read();
    if (now !== this.epoch) {
      this.epoch = now;
      for (const l of this.listeners) l(now);
    }
    this.checked = true;
  }

  private async read(): Promise<string> {
    await this.redis.cmd(['SET', this.keys.epoch, randomUUID(), 'NX']);
    const epoch = await this.redis.cmd<string | null>(['GET', this.keys.epoch]);
    if (!epoch) throw new Error('the cluster epoch could not be read');
    return epoch;
  }
}
