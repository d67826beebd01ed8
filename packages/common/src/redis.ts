/**
 * One Redis connection as both services use it in cluster mode (PROTOCOL §10): node-redis with
 * the offline queue off (a command while Redis is away fails at once, so the caller can answer
 * `unavailable` instead of hanging), reconnects with capped exponential backoff and jitter, and
 * one log line per change of state (down / up), never one per failed command.
 */
import { createClient } from 'redis';
import type { Logger } from './logger.ts';

type Client = ReturnType<typeof createClient>;

export interface RedisLinkOptions {
  url: string;
  log: Logger;
  /** What this connection is for (logs). */
  name: string;
  /** Called on every change of reachability. */
  onState?: (up: boolean) => void;
  /** Called each time the client reconnected after a loss (metrics). */
  onReconnect?: () => void;
  /** Called for each failure the client reports (a lost connection, a refused reconnect; metrics). */
  onError?: () => void;
}

const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 5000;

/** Capped exponential backoff with ±20 % jitter: 100 ms, 200 ms … 5 s. */
export function redisBackoff(retries: number): number {
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.min(retries, 16));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

export class RedisLink {
  readonly client: Client;
  private upNow = false;
  private everUp = false;
  private closed = false;
  private readonly scripts = new Map<string, string>();
  private readonly upListeners: (() => void)[] = [];
  private readonly onceUp: (() => void)[] = [];

  constructor(private readonly opts: RedisLinkOptions) {
    this.client = createClient({
      url: opts.url,
      disableOfflineQueue: true,
      // No per-command timer: node-redis's default (5 s) arms an AbortSignal.timeout per command,
      // a third of the client's CPU at thousands of commands a second. A Redis that stops
      // answering is found by the keep-alive PING instead, which fails the connection.
      commandOptions: { timeout: 0 },
      pingInterval: 2000,
      socket: { connectTimeout: 2000, reconnectStrategy: (retries: number) => redisBackoff(retries) },
    });
    this.client.on('error', (err: Error) => {
      this.opts.onError?.();
      this.down(err);
    });
    this.client.on('ready', () => this.markUp());
    this.client.on('end', () => this.down());
  }

  /** Connect; resolves once connected or after the first failure (the client keeps retrying). */
  async start(): Promise<void> {
    const connecting = this.client.connect().catch(() => undefined);
    await Promise.race([connecting, new Promise((r) => setTimeout(r, 2500).unref())]);
  }

  get up(): boolean {
    return this.upNow;
  }

  /** Call `fn` every time the connection becomes usable (after the first connect, and each reconnect). */
  whenUp(fn: () => void): void {
    this.upListeners.push(fn);
  }

  /** Resolves once the connection is usable (now, or when Redis comes back). */
  ready(): Promise<void> {
    if (this.upNow) return Promise.resolve();
    return new Promise((resolve) => this.onceUp.push(resolve));
  }

  /** A raw command (arguments as strings). */
  cmd<T = unknown>(args: string[]): Promise<T> {
    return this.client.sendCommand(args) as Promise<T>;
  }

  /** Run a Lua script by its SHA, loading it on a NOSCRIPT answer (Redis restarted or flushed). */
  async eval<T = unknown>(src: string, keys: string[], args: string[]): Promise<T> {
    let sha = this.scripts.get(src);
    if (sha === undefined) {
      sha = (await this.client.sendCommand(['SCRIPT', 'LOAD', src])) as string;
      this.scripts.set(src, sha);
    }
    try {
      return (await this.client.sendCommand(['EVALSHA', sha, String(keys.length), ...keys, ...args])) as T;
    } catch (err) {
      if (!String((err as Error)?.message).includes('NOSCRIPT')) throw err;
      return (await this.client.sendCommand(['EVAL', src, String(keys.length), ...keys, ...args])) as T;
    }
  }

  /** A second connection for SUBSCRIBE (a subscribed connection can run nothing else). */
  duplicate(name: string, onState?: (up: boolean) => void): RedisLink {
    return new RedisLink({ ...this.opts, name, onState });
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.client.isOpen) await this.client.close().catch(() => undefined);
    else this.client.destroy();
  }

  private markUp(): void {
    if (this.upNow) return;
    this.upNow = true;
    if (this.everUp) this.opts.onReconnect?.();
    this.everUp = true;
    this.opts.log.info({ redis: this.opts.name }, 'redis reachable');
    this.opts.onState?.(true);
    for (const fn of [...this.upListeners, ...this.onceUp.splice(0)]) {
      try {
        fn();
      } catch {
        // a listener's failure is its own business
      }
    }
  }

  private down(err?: Error): void {
    if (!this.upNow && this.everUp) return;
    if (!this.upNow) {
      // Never reached yet: say so once.
      if (this.closed || this.warnedUnreachable) return;
      this.warnedUnreachable = true;
      this.opts.log.warn({ redis: this.opts.name, err: err?.message }, 'redis unreachable; retrying with backoff');
      return;
    }
    this.upNow = false;
    if (!this.closed) this.opts.log.warn({ redis: this.opts.name, err: err?.message }, 'redis unreachable; retrying with backoff');
    this.opts.onState?.(false);
  }

  private warnedUnreachable = false;
}

/** Every key and channel of one bridge: `<CLUSTER_PREFIX>:<name>`. */
export const clusterKey = (prefix: string, ...parts: string[]): string => [prefix, ...parts].join(':');

/** What scanKeys needs of a connection: raw commands (a RedisLink, or a node-redis client wrapped). */
export interface RawCommands {
  cmd<T = unknown>(args: string[]): Promise<T>;
}

/** `s` as a literal inside a SCAN MATCH glob (a prefix with `*`, `?`, `[` or `\\` in it matches only itself). */
export function escapeGlob(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/**
 * The keys matching `match` (a SCAN glob), a batch at a time: SCAN, never KEYS, which blocks
 * Redis for as long as it walks the whole keyspace. A key may come in two batches (SCAN's rule).
 */
export async function* scanKeys(link: RawCommands, match: string, count = 1000): AsyncGenerator<string[]> {
  let cursor = '0';
  do {
    const [next, keys] = await link.cmd<[string | number, string[]]>(['SCAN', cursor, 'MATCH', match, 'COUNT', String(count)]);
    cursor = String(next);
    if (keys.length > 0) yield keys;
  } while (cursor !== '0');
}
