/**
 * A redis-server of the test's own (Debian's /usr/bin/redis-server) on a free loopback port, with
 * no persistence, for tests that stop, kill or empty Redis. Never the shared one on 6379: that one
 * other runs use at the same time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createClient } from 'redis';

export const REDIS_SERVER_BIN = '/usr/bin/redis-server';

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export interface RedisServerOptions {
  /** Port to listen on (default: a free one, kept across stop/start). */
  port?: number;
  binary?: string;
  startTimeoutMs?: number;
}

export interface RedisServer {
  readonly port: number;
  /** redis://127.0.0.1:PORT */
  readonly url: string;
  readonly running: boolean;
  /** SIGTERM and wait for the exit (nothing is saved: persistence is off). */
  stop(): Promise<void>;
  /** SIGKILL and wait for the exit. */
  kill(): Promise<void>;
  /** Start again on the same port (empty: nothing was persisted). */
  start(): Promise<void>;
  /** FLUSHALL on this server only. */
  flushAll(): Promise<void>;
  /** Everything it printed (all runs). */
  logs(): string;
  /** Kill it and remove its working directory. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (bound and released; good enough for a test's own server). */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', resolve);
  });
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

export async function redisServer(opts: RedisServerOptions = {}): Promise<RedisServer> {
  const port = opts.port ?? (await freePort());
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ab-redis-'));
  const binary = opts.binary ?? REDIS_SERVER_BIN;
  const output: string[] = [];
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const start = async (): Promise<void> => {
    if (child) throw new Error('redis-server already running');
    const args = [
      '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      '--dir', dir, '--daemonize', 'no', '--protected-mode', 'no', '--loglevel', 'notice',
    ];
    const c = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    live.add(c);
    exited = new Promise<void>((resolve) =>
      c.once('exit', () => {
        live.delete(c);
        if (child === c) child = undefined;
        resolve();
      }),
    );
    await new Promise<void>((resolve, reject) => {
      let seen = '';
      const timer = setTimeout(() => {
        c.kill('SIGKILL');
        reject(new Error(`redis-server on ${port} did not start within ${opts.startTimeoutMs ?? 10_000} ms:\n${output.join('')}`));
      }, opts.startTimeoutMs ?? 10_000);
      const onData = (chunk: Buffer) => {
        const text = chunk.toString();
        output.push(text);
        seen += text;
        if (/Ready to accept connections/.test(seen)) {
          clearTimeout(timer);
          resolve();
        }
      };
      c.stdout!.on('data', onData);
      c.stderr!.on('data', onData);
      c.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited (${code ?? signal}) before it was ready:\n${output.join('')}`));
      });
      c.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  };

  const signal = async (sig: NodeJS.Signals): Promise<void> => {
    const c = child;
    if (!c) return;
    const done = exited;
    c.kill(sig);
    const timer = setTimeout(() => c.kill('SIGKILL'), 5000);
    await done;
    clearTimeout(timer);
  };

  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    get running() {
      return child !== undefined;
    },
    stop: () => signal('SIGTERM'),
    kill: () => signal('SIGKILL'),
    start,
    async flushAll() {
      const client = createClient({ url: server.url });
      client.on('error', () => undefined);
      await client.connect();
      try {
        await client.sendCommand(['FLUSHALL']);
      } finally {
        await client.close().catch(() => undefined);
      }
    },
    logs: () => output.join(''),
    async close() {
      await signal('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
    [Symbol.asyncDispose]() {
      return server.close();
    },
  };
  try {
    await start();
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return server;
}
