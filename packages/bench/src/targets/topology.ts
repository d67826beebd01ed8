/**
 * One target under test: its server-side processes, its agent and its own load generator, all
 * children of the harness on 127.0.0.1. The three targets share this shape so every scenario
 * runs the same code against each.
 */
import { randomBytes } from 'node:crypto';
import { Child, freePort } from '../child.ts';
import type { ScenarioName } from '../options.ts';
import type { Scenario } from '../scenarios/types.ts';

/** `agent-bridge-bare`: the same build with METRICS=off TRACE=off, to price the instrumentation. */
export type TargetName =
  | 'agent-bridge'
  | 'agent-bridge-bare'
  | 'agent-bridge-noacks'
  | 'agent-bridge-cluster'
  | 'agent-bridge-cluster-noacks'
  | 'raw-relay'
  | 'socket.io';

export interface TopologyOptions {
  logDir: string;
  /** File descriptors the biggest scenario needs per client-facing process. */
  maxClients: number;
}

export abstract class Topology {
  abstract readonly name: TargetName;
  /** What differs from the others in this target's shape (said in the output). */
  abstract readonly note: string;
  /** Server-side processes, client-facing first: their memory is summed per client. */
  abstract readonly servers: Child[];
  /** The process that owns routing state (restarted in the reconnect storm). */
  abstract readonly broker: Child;
  agent!: Child;
  loadgen!: Child;
  brokerPort = 0;
  /** URL the load generator's clients connect to. */
  clientUrl = '';
  readonly agentToken = randomBytes(12).toString('hex');

  constructor(protected opts: TopologyOptions) {}

  get all(): Child[] {
    return [...this.servers, this.agent, this.loadgen];
  }

  /** A scenario this target runs its own way (the cluster targets: Redis figures, a SIGKILL storm). */
  runner(_scenario: ScenarioName): Scenario | undefined {
    return undefined;
  }

  /** Why this target does not run a scenario here (printed as "not measured"); undefined: it does. */
  notMeasured(_scenario: ScenarioName): string | undefined {
    return undefined;
  }

  protected abstract startServers(): Promise<void>;
  protected abstract agentEntry(): string;
  /** Settings only this variant gives its agent process (agent-bridge-noacks: BENCH_ACKS=off). */
  protected readonly agentEnv: Record<string, string> = {};

  async start(): Promise<void> {
    await this.startServers();
    this.agent = new Child({
      name: 'agent',
      entry: this.agentEntry(),
      logDir: this.opts.logDir,
      imports: this.preloads(),
      env: { BENCH_BROKER_WS: `ws://127.0.0.1:${this.brokerPort}`, BENCH_AGENT_TOKEN: this.agentToken, ...this.agentEnv },
    });
    this.agent.start();
    await this.agent.waitEvent('ready');
    this.loadgen = new Child({
      name: 'loadgen',
      entry: 'packages/bench/src/loadgen/main.ts',
      logDir: this.opts.logDir,
      fds: this.opts.maxClients,
      env: { BENCH_TARGET: this.name, BENCH_URL: this.clientUrl },
    });
    this.loadgen.start();
    await this.loadgen.waitEvent('ready');
  }

  /** Stop the broker gracefully (SIGTERM, SIGKILL after 5 s). */
  stopBroker(): Promise<void> {
    return this.broker.stop('SIGTERM', 5000);
  }

  /** Start the broker again on the same port. */
  async startBroker(): Promise<void> {
    this.broker.start();
    await this.broker.readyOnPort(this.brokerPort);
  }

  async stop(): Promise<void> {
    const order = [this.loadgen, this.agent, ...this.servers].filter(Boolean);
    await Promise.all(order.map((c) => c.stop('SIGTERM', 3000).catch(() => undefined)));
  }

  protected child(name: string, entry: string, env: Record<string, string>, fdsPerClient = 1): Child {
    return new Child({ name, entry, env, logDir: this.opts.logDir, fds: this.opts.maxClients * fdsPerClient, imports: this.preloads() });
  }

  /**
   * BENCH_PRELOAD (comma-separated module URLs or paths) is `--import`ed into this target's
   * servers and agent when BENCH_PRELOAD_TARGET names it (default agent-bridge): a way to measure
   * a change before making it.
   */
  protected preloads(): string[] {
    const list = process.env.BENCH_PRELOAD;
    if (!list || (process.env.BENCH_PRELOAD_TARGET ?? 'agent-bridge') !== this.name) return [];
    return list.split(',').map((s) => s.trim()).filter(Boolean);
  }

  protected static freePort = freePort;
}
