/**
 * The parent's side of one chaos agent process (agent-process.ts): start it (forked, through
 * tsx), SIGKILL it, start it again, give it push orders, ask how many frames it still holds.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT } from '@agent-bridge/common';
import type { AgentReport, ParentOrder } from './agent-process.ts';

const ENTRY = fileURLToPath(new URL('./agent-process.ts', import.meta.url));

export interface ChaosAgentSpec {
  index: number;
  brokerUrls: string[];
  name: string;
  env: Record<string, string>;
  /** Every report of every incarnation, with the incarnation's label (`agent-1#2`). */
  onReport(label: string, r: AgentReport): void;
}

export class ChaosAgent {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private statusWaiters = new Map<number, (s: { pending: number; connected: boolean }) => void>();
  private q = 0;
  private output: string[] = [];
  incarnation = 0;

  constructor(readonly spec: ChaosAgentSpec) {}

  get label(): string {
    return `agent-${this.spec.index + 1}#${this.incarnation}`;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  logs(): string {
    return this.output.join('');
  }

  /** Fork it and wait for its first welcome. */
  async start(timeoutMs = 30_000): Promise<void> {
    if (this.child) throw new Error(`${this.label} already running`);
    this.incarnation++;
    const label = this.label;
    const child = fork(ENTRY, [], {
      cwd: REPO_ROOT,
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, ...this.spec.env, CHAOS_BROKER_URLS: this.spec.brokerUrls.join(','), CHAOS_AGENT_NAME: this.spec.name },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    this.child = child;
    child.stdout!.on('data', (c: Buffer) => this.output.push(c.toString()));
    child.stderr!.on('data', (c: Buffer) => this.output.push(c.toString()));
    this.exited = new Promise<void>((resolve) =>
      child.once('exit', () => {
        if (this.child === child) this.child = undefined;
        resolve();
      }),
    );
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${label} got no welcome within ${timeoutMs} ms:\n${this.logs().slice(-2000)}`)), timeoutMs);
      child.on('message', (r: AgentReport) => {
        if (r.ev === 'status') this.statusWaiters.get(r.q)?.({ pending: r.pending, connected: r.connected });
        this.spec.onReport(label, r);
        if (r.ev === 'welcome') {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${label} exited (${code ?? signal}) before its welcome:\n${this.logs().slice(-2000)}`));
      });
    });
  }

  /** SIGKILL and wait for the exit. */
  async kill(): Promise<void> {
    const c = this.child;
    if (!c) return;
    const done = this.exited;
    c.kill('SIGKILL');
    await done;
  }

  push(order: Extract<ParentOrder, { op: 'push' }>): boolean {
    const c = this.child;
    if (!c?.connected) return false;
    c.send(order);
    return true;
  }

  /** Frames its SDK has not had accepted yet, and whether it is connected (undefined: not running). */
  async status(timeoutMs = 2000): Promise<{ pending: number; connected: boolean } | undefined> {
    const c = this.child;
    if (!c?.connected) return undefined;
    const q = ++this.q;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.statusWaiters.delete(q);
        resolve(undefined);
      }, timeoutMs);
      this.statusWaiters.set(q, (s) => {
        clearTimeout(timer);
        this.statusWaiters.delete(q);
        resolve(s);
      });
      c.send({ op: 'status', q } satisfies ParentOrder);
    });
  }
}
