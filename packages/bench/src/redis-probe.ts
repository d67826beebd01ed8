/**
 * The harness's own window on Redis for the cluster targets: a minimal RESP2 client (no
 * dependency; the harness only reads INFO and a few keys and deletes its prefix), and the readers
 * of `INFO memory` / `INFO commandstats` / `INFO cpu` the cluster scenarios report.
 */
import net from 'node:net';
import { escapeGlob, scanKeys } from '@agent-bridge/common/redis';

export type Resp = string | number | null | Resp[];

export class RespClient {
  private buf: Buffer = Buffer.alloc(0);
  private waiting: { resolve: (v: Resp) => void; reject: (e: Error) => void }[] = [];
  /** Replies nobody asked for (MONITOR's lines). */
  onPush: ((line: string) => void) | undefined;

  private constructor(private sock: net.Socket) {
    sock.on('data', (d: Buffer) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
      for (;;) {
        const r = parse(this.buf, 0);
        if (!r) break;
        this.buf = this.buf.subarray(r.end);
        const w = this.waiting.shift();
        if (!w) this.onPush?.(String(r.value));
        else if (r.value instanceof Error) w.reject(r.value);
        else w.resolve(r.value);
      }
    });
    const fail = (e: Error) => {
      for (const w of this.waiting.splice(0)) w.reject(e);
    };
    sock.on('error', fail);
    sock.on('close', () => fail(new Error('redis connection closed')));
  }

  /** Connect to `redis://host:port[/db]` (no auth: the bench's Redis is local). */
  static connect(url: string, timeoutMs = 3000): Promise<RespClient> {
    const u = new URL(url);
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host: u.hostname || '127.0.0.1', port: Number(u.port || 6379) });
      const timer = setTimeout(() => (sock.destroy(), reject(new Error(`redis ${u.host}: no connection within ${timeoutMs} ms`))), timeoutMs);
      sock.once('error', (e) => (clearTimeout(timer), reject(e)));
      sock.once('connect', () => {
        clearTimeout(timer);
        const c = new RespClient(sock);
        const db = u.pathname.replace('/', '');
        (db ? c.command('SELECT', db) : Promise.resolve('OK')).then(() => resolve(c), reject);
      });
    });
  }

  command(...args: (string | number)[]): Promise<Resp> {
    const parts = [`*${args.length}\r\n`];
    for (const a of args) {
      const s = String(a);
      parts.push(`$${Buffer.byteLength(s)}\r\n${s}\r\n`);
    }
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.sock.write(parts.join(''));
    });
  }

  close(): void {
    this.sock.destroy();
  }
}

function parse(b: Buffer, at: number): { value: Resp | Error; end: number } | undefined {
  const eol = b.indexOf('\r\n', at);
  if (eol < 0) return undefined;
  const head = b.toString('utf8', at + 1, eol);
  switch (b[at]) {
    case 0x2b: // +
      return { value: head, end: eol + 2 };
    case 0x2d: // -
      return { value: new Error(head), end: eol + 2 };
    case 0x3a: // :
      return { value: Number(head), end: eol + 2 };
    case 0x24: {
      // $
      const n = Number(head);
      if (n < 0) return { value: null, end: eol + 2 };
      if (b.length < eol + 2 + n + 2) return undefined;
      return { value: b.toString('utf8', eol + 2, eol + 2 + n), end: eol + 2 + n + 2 };
    }
    case 0x2a: {
      // *
      const n = Number(head);
      if (n < 0) return { value: null, end: eol + 2 };
      const out: Resp[] = [];
      let pos = eol + 2;
      for (let i = 0; i < n; i++) {
        const r = parse(b, pos);
        if (!r) return undefined;
        if (r.value instanceof Error) return r;
        out.push(r.value);
        pos = r.end;
      }
      return { value: out, end: pos };
    }
    default:
      return { value: new Error(`unexpected RESP byte ${b[at]}`), end: b.length };
  }
}

/** `INFO <section>` as a flat map of its `key:value` lines. */
export async function info(c: RespClient, section: string): Promise<Record<string, string>> {
  const text = String(await c.command('INFO', section));
  const out: Record<string, string> = {};
  for (const line of text.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

export async function usedMemory(c: RespClient): Promise<number> {
  return Number((await info(c, 'memory')).used_memory);
}

/** Calls per command since the server started (or its last CONFIG RESETSTAT). */
export async function commandCalls(c: RespClient): Promise<Record<string, number>> {
  return (await commandStats(c)).calls;
}

/**
 * Calls and Redis's own time (µs) per command. A script's `redis.call`s are counted under their
 * own commands as well as in the `evalsha` that ran them, so `usec` of evalsha includes theirs:
 * evalsha's usec minus the sum of what its calls took is the Lua itself.
 */
export async function commandStats(c: RespClient): Promise<{ calls: Record<string, number>; usec: Record<string, number> }> {
  const calls: Record<string, number> = {};
  const usec: Record<string, number> = {};
  for (const [k, v] of Object.entries(await info(c, 'commandstats'))) {
    const m = /calls=(\d+),usec=(\d+)/.exec(v);
    if (k.startsWith('cmdstat_') && m) {
      calls[k.slice(8)] = Number(m[1]);
      usec[k.slice(8)] = Number(m[2]);
    }
  }
  return { calls, usec };
}

/** Redis's own CPU time (user + system), µs. */
export async function redisCpuUs(c: RespClient): Promise<number> {
  const i = await info(c, 'cpu');
  return Math.round((Number(i.used_cpu_user) + Number(i.used_cpu_sys)) * 1e6);
}

/** b − a per command (commands that did not move are left out). */
export function diffCalls(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(b)) {
    const d = v - (a[k] ?? 0);
    if (d > 0) out[k] = d;
  }
  return out;
}

/** Delete every key `prefix:*` (SCAN + UNLINK); how many. Never FLUSHALL: the Redis may be shared. */
export async function deletePrefix(c: RespClient, prefix: string): Promise<number> {
  const link = { cmd: <T>(args: string[]) => c.command(...args) as Promise<T> };
  let n = 0;
  for await (const keys of scanKeys(link, `${escapeGlob(prefix)}:*`)) n += Number(await c.command('UNLINK', ...keys));
  return n;
}
