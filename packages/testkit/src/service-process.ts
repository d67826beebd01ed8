/**
 * A real service process (broker, web server, demo agent) under test control: start, stop with a
 * signal, SIGKILL, restart on the same port. Output is kept so a failing test can show it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { REPO_ROOT } from '@agent-bridge/common';

export interface ServiceSpec {
  name: string;
  /** Entry file relative to the repository root (.ts runs through tsx, .mjs as built). */
  entry: string;
  env: Record<string, string>;
  /** Env var holding HOST:PORT; after the first start the chosen port is pinned there. */
  addrVar?: string;
  /** Line that says the service is ready (default: /listening/). */
  readyLine?: RegExp;
  startTimeoutMs?: number;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export class ServiceProcess {
  private child: ChildProcess | undefined;
  private output: string[] = [];
  private out: string[] = [];
  private err: string[] = [];
  private exitWaiters: ((code: number | null) => void)[] = [];
  url = '';
  port = 0;
  lastExitCode: number | null | undefined;

  constructor(readonly spec: ServiceSpec) {}

  get running(): boolean {
    return this.child !== undefined;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Everything the process printed so far (all runs), stdout and stderr interleaved. */
  logs(): string {
    return this.output.join('');
  }

  /** What it printed on stdout (all runs). */
  stdout(): string {
    return this.out.join('');
  }

  /** What it printed on stderr (all runs): a bad setting is one line here. */
  stderr(): string {
    return this.err.join('');
  }

  async start(): Promise<void> {
    if (this.child) throw new Error(`${this.spec.name} already running`);
    const env: Record<string, string> = { ...process.env, ...this.spec.env } as Record<string, string>;
    if (this.spec.addrVar && this.port) env[this.spec.addrVar] = `127.0.0.1:${this.port}`;
    const args = this.spec.entry.endsWith('.ts') ? ['--import', 'tsx', this.spec.entry] : [this.spec.entry];
    const child = spawn(process.execPath, args, {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    live.add(child);
    const ready = this.spec.readyLine ?? /listening/;
    let buffered = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        // A service that never became ready must not outlive the test.
        child.kill('SIGKILL');
        reject(new Error(`${this.spec.name} did not start within ${this.spec.startTimeoutMs ?? 15000} ms:\n${this.logs()}`));
      }, this.spec.startTimeoutMs ?? 15000);
      const onData = (chunk: Buffer) => {
        const text = chunk.toString();
        this.output.push(text);
        this.out.push(text);
        buffered += text;
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          if (ready.test(line)) {
            const m = /https?:\/\/127\.0\.0\.1:(\d+)/.exec(line);
            if (m) {
              this.url = `http://127.0.0.1:${m[1]}`;
              this.port = Number(m[1]);
            }
            clearTimeout(timer);
            resolve();
          }
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', (c: Buffer) => {
        this.output.push(c.toString());
        this.err.push(c.toString());
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        live.delete(child);
        this.child = undefined;
        this.lastExitCode = code ?? (signal ? null : code);
        for (const w of this.exitWaiters.splice(0)) w(code);
        reject(new Error(`${this.spec.name} exited (${code ?? signal}) before it was ready:\n${this.logs()}`));
      });
    });
  }

  /** Send `signal` and wait for the exit; resolves with the exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<number | null> {
    const child = this.child;
    if (!child) return this.lastExitCode ?? null;
    const exited = new Promise<number | null>((r) => this.exitWaiters.push(r));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const code = await exited;
    clearTimeout(timer);
    return code;
  }

  /** SIGKILL: no goodbye frames, sockets just drop. */
  kill(): Promise<number | null> {
    return this.stop('SIGKILL');
  }

  async restart(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await this.stop(signal);
    await this.start();
  }
}
