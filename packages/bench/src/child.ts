/**
 * One process the harness starts: `node --expose-gc <bundle>`, its entry bundled as `pnpm build`
 * bundles the services, with the probe evaluated first (bundle.ts; BENCH_SOURCE=1: `node
 * --expose-gc --import tsx --import probe.ts <entry>`), with an IPC channel for commands and
 * stats, output to a log file (no harness CPU spent on it), and a registry so that every child is
 * ended on exit, error and SIGINT.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bundled, FROM_SOURCE } from './bundle.ts';
import type { RpcEvent, RpcResponse } from './rpc.ts';
import type { ProbeStats } from './probe.ts';

export const BENCH_SRC = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(BENCH_SRC, '../../..');
const PROBE_URL = pathToFileURL(path.join(BENCH_SRC, 'probe.ts')).href;

export interface ChildSpec {
  /** Short name used in results: `broker`, `web-server`, `agent`, `loadgen`, `proxy`, ... */
  name: string;
  /** Entry file, absolute or relative to the repository root. */
  entry: string;
  env?: Record<string, string>;
  /** Directory for `<name>.log`. */
  logDir: string;
  /** File descriptors this process may need (clients × sockets); raises `ulimit -n` if needed. */
  fds?: number;
  /** Extra `--import` modules (BENCH_PRELOAD: try a change without editing the product). */
  imports?: string[];
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const c of live) c.kill('SIGKILL');
  });
}

/** SIGKILL every child still running (the harness's last resort). */
export function killAllChildren(): void {
  for (const c of live) c.kill('SIGKILL');
}

function softFdLimit(): number {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    return Number(line?.split(/\s{2,}/)[1]) || 1024;
  } catch {
    return 1024;
  }
}

export class Child {
  private proc: ChildProcess | undefined;
  private nextRpc = 1;
  private pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  private eventWaiters: { event: string; resolve: (d: unknown) => void }[] = [];
  private exitWaiters: (() => void)[] = [];
  readonly logFile: string;
  exitCode: number | null | undefined;

  constructor(readonly spec: ChildSpec) {
    this.logFile = path.join(spec.logDir, `${spec.name}.log`);
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }
  get running(): boolean {
    return this.proc !== undefined;
  }

  /** Start the process (returns once spawned; use `ready*` to wait for readiness). */
  start(): void {
    if (this.proc) throw new Error(`${this.spec.name} already running`);
    installExitHook();
    const entry = path.resolve(REPO_ROOT, this.spec.entry);
    const imports = this.spec.imports ?? [];
    const nodeArgs = FROM_SOURCE
      ? ['--expose-gc', '--import', 'tsx', '--import', PROBE_URL, ...imports.flatMap((m) => ['--import', m]), entry]
      : ['--expose-gc', bundled(REPO_ROOT, entry, [PROBE_URL, ...imports])];
    const need = (this.spec.fds ?? 0) + 256;
    const log = openSync(this.logFile, 'a');
    const opts = {
      cwd: REPO_ROOT,
      env: { ...process.env, ...this.spec.env },
      stdio: ['ignore', log, log, 'ipc'] as ('ignore' | number | 'ipc')[],
    };
    const proc =
      need > softFdLimit()
        ? spawn('bash', ['-c', `ulimit -n ${need} 2>/dev/null || ulimit -n hard; exec "$0" "$@"`, process.execPath, ...nodeArgs], opts)
        : spawn(process.execPath, nodeArgs, opts);
    closeSync(log);
    this.proc = proc;
    this.exitCode = undefined;
    live.add(proc);
    proc.on('message', (m: RpcResponse | RpcEvent) => this.onMessage(m));
    proc.once('exit', (code) => {
      live.delete(proc);
      this.proc = undefined;
      this.exitCode = code;
      for (const p of this.pending.values()) p.reject(new Error(`${this.spec.name} exited (${code}) during a request`));
      this.pending.clear();
      for (const w of this.exitWaiters.splice(0)) w();
    });
  }

  private onMessage(m: RpcResponse | RpcEvent): void {
    if (!m || typeof m !== 'object') return;
    if ('rpc' in m) {
      const p = this.pending.get(m.rpc);
      if (!p) return;
      this.pending.delete(m.rpc);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(`${this.spec.name}: ${m.error}`));
    } else if ('event' in m) {
      const hits = this.eventWaiters.filter((w) => w.event === m.event);
      this.eventWaiters = this.eventWaiters.filter((w) => w.event !== m.event);
      for (const w of hits) w.resolve(m.data);
    }
  }

  /** Send a command; rejects after `timeoutMs` or if the process exits. */
  call<T = unknown>(cmd: string, args?: unknown, timeoutMs = 30_000): Promise<T> {
    const proc = this.proc;
    if (!proc?.connected) return Promise.reject(new Error(`${this.spec.name} is not running`));
    const rpc = this.nextRpc++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(rpc);
        reject(new Error(`${this.spec.name}: ${cmd} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(rpc, {
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      proc.send({ rpc, cmd, args });
    });
  }

  stats(): Promise<ProbeStats> {
    return this.call('probe.stats', undefined, 10_000);
  }
  gcStats(): Promise<ProbeStats> {
    return this.call('probe.gc', undefined, 20_000);
  }

  /** Wait for a one-way event from the child. */
  waitEvent<T = unknown>(event: string, timeoutMs = 20_000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.spec.name}: no "${event}" within ${timeoutMs} ms; see ${this.logFile}`)), timeoutMs);
      const onExit = () => reject(new Error(`${this.spec.name} exited (${this.exitCode}) before "${event}"; see ${this.logFile}:\n${this.tail()}`));
      this.exitWaiters.push(onExit);
      this.eventWaiters.push({
        event,
        resolve: (d) => {
          clearTimeout(timer);
          this.exitWaiters = this.exitWaiters.filter((w) => w !== onExit);
          resolve(d as T);
        },
      });
    });
  }

  /** Wait until `port` on 127.0.0.1 accepts TCP connections (the service is listening). */
  async readyOnPort(port: number, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.proc) throw new Error(`${this.spec.name} exited (${this.exitCode}) before listening; see ${this.logFile}:\n${this.tail()}`);
      if (await canConnect(port)) return;
      if (Date.now() > deadline) throw new Error(`${this.spec.name} not listening on ${port} within ${timeoutMs} ms:\n${this.tail()}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Last lines of the log (for error messages). */
  tail(lines = 15): string {
    try {
      return readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }

  /** Signal the process and wait for it to exit; SIGKILL after `timeoutMs`. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 5000): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    const exited = new Promise<void>((r) => this.exitWaiters.push(r));
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

/** A free TCP port on 127.0.0.1 (bound, then released for the child to take). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}
