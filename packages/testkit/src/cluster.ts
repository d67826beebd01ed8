/**
 * Cluster mode as real processes (PROTOCOL §10): N brokers and M web servers on one Redis, each
 * broker with its NODE_ID (`broker-1` …), every web server with BROKER_URL listing every broker,
 * all keys under a CLUSTER_PREFIX of the stack's own (random unless given), so runs sharing the
 * machine's Redis never see each other. A TCP balancer in front of the web servers plays the
 * load balancer users put there: one address for browsers, any live web server behind it.
 *
 * With `redisUrl: null` the same shape runs the embedded default (no Redis): the single-process
 * variant (one broker; pass STATE_SNAPSHOT_PATH in `env` to test SIGTERM snapshots).
 *
 * Every process can be stopped (SIGTERM), killed (SIGKILL) and restarted on the same port.
 * `close()` (or `await using`) kills everything and deletes the prefix's keys.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { createClient } from 'redis';
import { escapeGlob, type RawCommands, scanKeys } from '@agent-bridge/common/redis';
import { ServiceProcess } from './service-process.ts';
import { BASE_TEST_ENV } from './stack.ts';

/** The machine's shared Redis (tests use their own CLUSTER_PREFIX on it, never FLUSHALL). */
export const SHARED_REDIS_URL = 'redis://127.0.0.1:6379';

export interface ClusterStackOptions {
  /** Brokers (default 2). */
  brokers?: number;
  /** Web servers (default 2; 0 for brokers only). */
  webServers?: number;
  /** Redis (default the shared one on 6379); `null`: embedded mode, no Redis (one broker). */
  redisUrl?: string | null;
  /** CLUSTER_PREFIX (default `t` + random hex, new per stack). */
  prefix?: string;
  /** Extra settings for every process. */
  env?: Record<string, string>;
  /** Extra settings for broker `i` (0-based), on top of `env`. */
  brokerEnv?: (i: number) => Record<string, string>;
  /** Extra settings for web server `i` (0-based), on top of `env`. */
  webEnv?: (i: number) => Record<string, string>;
}

export interface ClusterStack {
  /** CLUSTER_PREFIX of every process of this stack. */
  readonly prefix: string;
  /** REDIS_URL, or null in embedded mode. */
  readonly redisUrl: string | null;
  readonly env: Record<string, string>;
  readonly brokers: ServiceProcess[];
  readonly webServers: ServiceProcess[];
  /** Every process: brokers first, then web servers. */
  readonly processes: ServiceProcess[];
  /** One address in front of every web server (connections go to a live one, round robin). */
  readonly front: TcpBalancer;
  /** ws://127.0.0.1:PORT of each broker (what BROKER_URL lists, and what agents dial). */
  readonly brokerWsUrls: string[];
  /** http://127.0.0.1:PORT of each broker. */
  readonly brokerUrls: string[];
  /** http://127.0.0.1:PORT of each web server. */
  readonly webUrls: string[];
  /** http://127.0.0.1:PORT of the front balancer: what a browser would open. */
  readonly frontUrl: string;
  /** Delete every key under `prefix:` (SCAN + UNLINK); the count deleted. */
  deleteKeys(): Promise<number>;
  /** SIGKILL everything, close the balancer, delete the prefix's keys. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function clusterStack(opts: ClusterStackOptions = {}): Promise<ClusterStack> {
  const redisUrl = opts.redisUrl === undefined ? SHARED_REDIS_URL : opts.redisUrl;
  const nBrokers = opts.brokers ?? (redisUrl === null ? 1 : 2);
  const nWeb = opts.webServers ?? (redisUrl === null ? 1 : 2);
  if (nBrokers < 1) throw new Error('clusterStack: at least one broker');
  if (redisUrl === null && nBrokers > 1) throw new Error('clusterStack: several brokers need Redis (redisUrl)');
  const prefix = opts.prefix ?? `t${randomBytes(6).toString('hex')}`;
  if (!prefix) throw new Error('clusterStack: empty prefix');
  const env: Record<string, string> = { ...BASE_TEST_ENV, ...opts.env };
  const clusterEnv: Record<string, string> = redisUrl === null ? {} : { REDIS_URL: redisUrl, CLUSTER_PREFIX: prefix };

  const brokers = Array.from(
    { length: nBrokers },
    (_, i) =>
      new ServiceProcess({
        name: `broker-${i + 1}`,
        entry: 'packages/websocket-server/src/main.ts',
        env: { ...env, ...clusterEnv, NODE_ID: `broker-${i + 1}`, ...opts.brokerEnv?.(i), WEBSOCKET_SERVER_ADDR: '127.0.0.1:0' },
        addrVar: 'WEBSOCKET_SERVER_ADDR',
      }),
  );
  const webServers: ServiceProcess[] = [];
  const front = new TcpBalancer([]);
  const stack: ClusterStack = {
    prefix,
    redisUrl,
    env,
    brokers,
    webServers,
    get processes() {
      return [...brokers, ...webServers];
    },
    front,
    get brokerWsUrls() {
      return brokers.map((b) => `ws://127.0.0.1:${b.port}`);
    },
    get brokerUrls() {
      return brokers.map((b) => `http://127.0.0.1:${b.port}`);
    },
    get webUrls() {
      return webServers.map((w) => `http://127.0.0.1:${w.port}`);
    },
    get frontUrl() {
      return `http://127.0.0.1:${front.port}`;
    },
    deleteKeys: () => (redisUrl === null ? Promise.resolve(0) : deletePrefixKeys(redisUrl, prefix)),
    async close() {
      await Promise.all(stack.processes.map((p) => p.kill().catch(() => undefined)));
      await front.close();
      await stack.deleteKeys().catch(() => undefined);
    },
    [Symbol.asyncDispose]() {
      return stack.close();
    },
  };
  try {
    // Brokers first, one after the other (2 cores): the web servers must know every broker's port.
    for (const b of brokers) await b.start();
    const brokerList = stack.brokerWsUrls.join(',');
    for (let i = 0; i < nWeb; i++) {
      const w = new ServiceProcess({
        name: `web-${i + 1}`,
        entry: 'packages/web-server/src/main.ts',
        env: { ...env, ...clusterEnv, NODE_ID: `web-${i + 1}`, ...opts.webEnv?.(i), WEB_SERVER_ADDR: '127.0.0.1:0', BROKER_URL: brokerList },
        addrVar: 'WEB_SERVER_ADDR',
      });
      webServers.push(w);
      await w.start();
    }
    front.setTargets(webServers.map((w) => w.port));
    await front.listen();
  } catch (err) {
    await stack.close();
    throw err;
  }
  return stack;
}

/** Run `fn` on a short-lived connection to `redisUrl` (2 s to connect, no reconnecting), closed after. */
async function withRedis<T>(redisUrl: string, fn: (link: RawCommands) => Promise<T>): Promise<T> {
  const client = createClient({ url: redisUrl, socket: { connectTimeout: 2000, reconnectStrategy: false } });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn({ cmd: <R>(args: string[]) => client.sendCommand(args) as Promise<R> });
  } finally {
    await client.close().catch(() => undefined);
  }
}

/** Delete every key `prefix:*` on `redisUrl` (SCAN MATCH + UNLINK); returns how many. */
export async function deletePrefixKeys(redisUrl: string, prefix: string): Promise<number> {
  if (!prefix) throw new Error('deletePrefixKeys: empty prefix');
  return withRedis(redisUrl, async (link) => {
    let deleted = 0;
    for await (const keys of scanKeys(link, `${escapeGlob(prefix)}:*`)) deleted += Number(await link.cmd(['UNLINK', ...keys]));
    return deleted;
  });
}

/** Resolves when Redis at `redisUrl` answers PING; rejects with the reason otherwise (2 s). */
export async function pingRedis(redisUrl: string): Promise<void> {
  const client = createClient({ url: redisUrl, socket: { connectTimeout: 2000, reconnectStrategy: false } });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.sendCommand(['PING']);
  } finally {
    if (client.isOpen) await client.close().catch(() => undefined);
    else client.destroy();
  }
}

/** Keys under `prefix:` on `redisUrl` (SCAN, for tests that check isolation or clean-up). */
export async function countPrefixKeys(redisUrl: string, prefix: string): Promise<number> {
  return withRedis(redisUrl, async (link) => {
    let n = 0;
    for await (const keys of scanKeys(link, `${escapeGlob(prefix)}:*`)) n += keys.length;
    return n;
  });
}

/**
 * A TCP load balancer on loopback: each new connection goes to the next target, round robin;
 * a target that refuses (a killed web server) is skipped for the next one, so clients that redial
 * after their web server died land on a live one, as behind a real load balancer.
 */
export class TcpBalancer {
  private server = net.createServer((c) => this.onConnection(c));
  private sockets = new Set<net.Socket>();
  private nextIndex = 0;
  port = 0;

  constructor(private targets: number[], private readonly host = '127.0.0.1') {}

  setTargets(ports: number[]): void {
    this.targets = [...ports];
  }

  async listen(port = 0): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (!this.server.listening) return;
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private onConnection(client: net.Socket): void {
    client.pause();
    this.sockets.add(client);
    client.on('error', () => client.destroy());
    client.on('close', () => this.sockets.delete(client));
    const start = this.nextIndex++;
    this.tryTarget(client, start, 0);
  }

  private tryTarget(client: net.Socket, start: number, attempt: number): void {
    if (client.destroyed) return;
    if (attempt >= this.targets.length) {
      client.destroy();
      return;
    }
    const port = this.targets[(start + attempt) % this.targets.length]!;
    const upstream = net.connect(port, this.host);
    let connected = false;
    upstream.once('connect', () => {
      connected = true;
      this.sockets.add(upstream);
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
    upstream.on('error', () => {
      if (!connected) {
        upstream.destroy();
        this.tryTarget(client, start, attempt + 1);
        return;
      }
      client.destroy();
    });
    upstream.on('close', () => {
      this.sockets.delete(upstream);
      if (connected) client.destroy();
    });
    client.on('close', () => upstream.destroy());
  }
}
