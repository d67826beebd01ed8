/** Agent Bridge itself: broker, web server (dialing the broker directly), SDK agent. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Child } from '../child.ts';
import { Topology, type TargetName } from './topology.ts';

export class AgentBridgeTopology extends Topology {
  readonly name: TargetName = 'agent-bridge';
  /** Settings that only this variant sets (the bare one switches instrumentation off). */
  protected readonly variantEnv: Record<string, string> = {};
  readonly note: string = 'browser → web server → broker → SDK agent (one upstream socket per client)';
  servers: Child[] = [];
  broker!: Child;
  webPort = 0;
  /** Settings every process gets; the bench lifts only the limits that would throttle it. */
  env: Record<string, string> = {};

  protected async startServers(): Promise<void> {
    this.brokerPort = await Topology.freePort();
    this.webPort = await Topology.freePort();
    const base = benchEnv(this.agentToken, this.opts.maxClients);
    // The variant's settings, then the queue bound the storm needs (never a variant's to change).
    this.env = { ...base, ...this.variantEnv, AGENT_QUEUE_LIMIT: base.AGENT_QUEUE_LIMIT! };
    // Embedded mode survives a SIGTERM restart through its snapshot (issue 11 item 4): the storm's
    // restart loads it. A temp dir of this run, emptied at each (re)start of the whole topology.
    this.snapshotDir ??= mkdtempSync(path.join(os.tmpdir(), 'ab-bench-'));
    rmSync(path.join(this.snapshotDir, 'broker-state.json'), { force: true });
    this.broker = this.child('broker', 'packages/websocket-server/src/main.ts', {
      ...this.env,
      STATE_SNAPSHOT_PATH: path.join(this.snapshotDir, 'broker-state.json'),
      WEBSOCKET_SERVER_ADDR: `127.0.0.1:${this.brokerPort}`,
    });
    const web = this.child(
      'web-server',
      'packages/web-server/src/main.ts',
      { ...this.env, WEB_SERVER_ADDR: `127.0.0.1:${this.webPort}`, BROKER_URL: `ws://127.0.0.1:${this.brokerPort}` },
      2,
    );
    this.servers = [web, this.broker];
    this.broker.start();
    await this.broker.readyOnPort(this.brokerPort);
    web.start();
    await web.readyOnPort(this.webPort);
    this.clientUrl = `http://127.0.0.1:${this.webPort}`;
  }

  protected agentEntry(): string {
    return 'packages/bench/src/agents/project-agent.ts';
  }

  private snapshotDir: string | undefined;

  override async stop(): Promise<void> {
    await super.stop();
    if (this.snapshotDir) rmSync(this.snapshotDir, { recursive: true, force: true });
    this.snapshotDir = undefined;
  }
}

/**
 * The same build with per-frame metrics and trace context off (METRICS=off TRACE=off): run beside
 * `agent-bridge` to price the instrumentation (issue 15: ≤ 5 % throughput and CPU per message).
 */
export class AgentBridgeBareTopology extends AgentBridgeTopology {
  override readonly name: TargetName = 'agent-bridge-bare';
  override readonly note: string;
  protected override readonly variantEnv: Record<string, string>;

  constructor(...args: ConstructorParameters<typeof AgentBridgeTopology>) {
    super(...args);
    // To split the cost: BENCH_BARE_ENV="METRICS=off" (or "TRACE=off") turns off only that;
    // BENCH_AA=1 keeps everything on, so the cost table shows the noise floor (an A/A run).
    const custom = process.env.BENCH_BARE_ENV;
    if (process.env.BENCH_AA === '1') this.variantEnv = {};
    else if (custom !== undefined) this.variantEnv = Object.fromEntries(custom.split(',').filter(Boolean).map((kv) => kv.split('=', 2) as [string, string]));
    else this.variantEnv = { METRICS: 'off', TRACE: 'off' };
    const set = Object.entries(this.variantEnv).map(([k, v]) => `${k}=${v}`).join(' ');
    this.note = set ? `as agent-bridge, with ${set}` : 'as agent-bridge (BENCH_AA=1: an A/A run, instrumentation on in both)';
  }
}

/**
 * The same build with §8 acknowledgements off: the SDK agent with `acks: false` (no opt-in, no
 * held frames) and clients sending messages without ids (no `accepted`): run beside
 * `agent-bridge` (acks on, the default) to price them (issue 12: ≥ 0.9× the throughput).
 */
export class AgentBridgeNoAcksTopology extends AgentBridgeTopology {
  override readonly name: TargetName = 'agent-bridge-noacks';
  override readonly note = 'as agent-bridge, with §8 acks off (SDK acks:false, client messages without ids)';
  protected override readonly agentEnv = { BENCH_ACKS: 'off' };
}

/**
 * The settings every Agent Bridge target gives its processes (single process and cluster alike):
 * production mode with fresh secrets, and only the limits that would throttle the load lifted.
 */
export function benchEnv(agentToken: string, maxClients: number): Record<string, string> {
  return {
    NODE_ENV: 'production',
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
    LOG_FORMAT: 'json',
    AGENT_TOKEN: agentToken,
    PROXY_TOKEN: randomBytes(12).toString('hex'),
    JWT_SECRET: randomBytes(24).toString('hex'),
    RATE_LIMIT_HTTP_PER_MIN: '100000000',
    CLIENT_RATE_PER_SEC: '100000000',
    CLIENT_RATE_BURST: '100000000',
    // Every load-generator client comes from 127.0.0.1: lift the per-IP caps (issue 9) that
    // would otherwise count thousands of users as one abuser, and the totals to the run's size
    // (MAX_SESSIONS is cluster-wide in cluster mode, as in one process).
    CONNECTIONS_PER_IP: '100000000',
    MAX_SESSIONS_PER_IP: '100000000',
    WS_UPGRADES_PER_MIN_PER_IP: '100000000',
    WS_UPGRADES_PER_MIN_PER_CLIENT: '100000000',
    MAX_SESSIONS: String(Math.max(10_000, maxClients * 2)),
    MAX_CONNECTIONS: String(Math.max(8192, maxClients * 3)),
    // The storm: clients' held frames reach the broker before the agent has redialed.
    AGENT_QUEUE_LIMIT: process.env.BENCH_AGENT_QUEUE_LIMIT ?? String(Math.max(100, maxClients * 2)),
  };
}
