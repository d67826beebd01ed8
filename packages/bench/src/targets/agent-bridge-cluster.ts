/**
 * Agent Bridge in cluster mode (docs/cluster.md, issue 11 item 7): 2 brokers + 2 web servers on
 * one Redis, every web server with BROKER_URL listing both brokers, the load generator's clients
 * spread over both web servers (client i → web server i mod 2, as a load balancer would), and the
 * SDK agent given both broker URLs (broker-2 first: the storm kills broker-1, so the storm
 * measures the clients' failover, not the agent's takeover window — docs/performance.md says so).
 *
 * Redis: by default a private `redis-server` the harness starts on a free port (no persistence),
 * so `INFO memory` / `INFO commandstats` / `INFO cpu` count this cluster alone and nothing of the
 * other sessions sharing the machine's Redis; BENCH_REDIS_URL points it at an existing Redis
 * instead (its INFO then includes everyone's traffic: the notes say so). Either way the keys are
 * under a CLUSTER_PREFIX of this run and deleted at the end (never FLUSHALL). No redis-server and
 * no BENCH_REDIS_URL: the target is not measured, and the run says so instead of failing.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { openSync, closeSync } from 'node:fs';
import path from 'node:path';
import type { Child } from '../child.ts';
import { deletePrefix, RespClient } from '../redis-probe.ts';
import type { ScenarioName } from '../options.ts';
import { clusterRunner } from '../scenarios/cluster.ts';
import type { Scenario } from '../scenarios/types.ts';
import { benchEnv } from './agent-bridge.ts';
import { Topology, type TargetName } from './topology.ts';

export class AgentBridgeClusterTopology extends Topology {
  readonly name: TargetName = 'agent-bridge-cluster';
  readonly note: string = 'browser → web-1|web-2 → broker-1|broker-2 (rendezvous per client) → SDK agent on broker-2; Redis';
  servers: Child[] = [];
  broker!: Child;
  /** Both brokers: [broker-1 (killed in the storm), broker-2]. */
  brokers: Child[] = [];
  brokerPorts: number[] = [];
  webPorts: number[] = [];
  readonly prefix = `bench${randomBytes(4).toString('hex')}`;
  redisUrl = '';
  /** The harness's own connection to Redis (INFO, key counts). */
  redis: RespClient | undefined;
  /** Whether INFO counts this cluster only (a private redis-server) or a shared Redis. */
  privateRedis = false;
  /** Set when the target cannot run here (no Redis): every scenario is "not measured". */
  skipped: string | undefined;
  protected override readonly agentEnv: Record<string, string> = {};
  private redisProc: ChildProcess | undefined;

  override notMeasured(scenario: ScenarioName): string | undefined {
    if (this.skipped) return this.skipped;
    if (scenario === 'stream') return 'the stream scenario is not part of the cluster targets (issue 11 item 7: echo, fan-out, idle, storm)';
    return undefined;
  }

  override runner(scenario: ScenarioName): Scenario | undefined {
    return clusterRunner(scenario);
  }

  override async start(): Promise<void> {
    this.redisUrl = await this.startRedis();
    if (this.skipped) return;
    await super.start();
  }

  protected async startServers(): Promise<void> {
    this.brokerPorts = [await Topology.freePort(), await Topology.freePort()];
    this.webPorts = [await Topology.freePort(), await Topology.freePort()];
    const env = benchEnv(this.agentToken, this.opts.maxClients);
    const cluster = { REDIS_URL: this.redisUrl, CLUSTER_PREFIX: this.prefix };
    const brokerList = this.brokerPorts.map((p) => `ws://127.0.0.1:${p}`).join(',');
    // Client-facing first (memory per client is summed over these), then the brokers.
    this.brokers = this.brokerPorts.map((port, i) =>
      this.child(`broker-${i + 1}`, 'packages/websocket-server/src/main.ts', { ...env, ...cluster, NODE_ID: `broker-${i + 1}`, WEBSOCKET_SERVER_ADDR: `127.0.0.1:${port}` }),
    );
    const webs = this.webPorts.map((port, i) =>
      this.child(`web-${i + 1}`, 'packages/web-server/src/main.ts', { ...env, ...cluster, NODE_ID: `web-${i + 1}`, WEB_SERVER_ADDR: `127.0.0.1:${port}`, BROKER_URL: brokerList }, 2),
    );
    this.servers = [...webs, ...this.brokers];
    this.broker = this.brokers[0]!;
    this.brokerPort = this.brokerPorts[0]!;
    // One after the other (2 cores): a broker's start loads its scripts and claims its NODE_ID.
    for (const [i, b] of this.brokers.entries()) {
      b.start();
      await b.readyOnPort(this.brokerPorts[i]!);
    }
    for (const [i, w] of webs.entries()) {
      w.start();
      await w.readyOnPort(this.webPorts[i]!);
    }
    this.clientUrl = this.webPorts.map((p) => `http://127.0.0.1:${p}`).join(',');
    // The SDK takes a comma-separated list and redials through it; broker-2 first (see above).
    this.agentEnv.BENCH_BROKER_WS = [...this.brokerPorts].reverse().map((p) => `ws://127.0.0.1:${p}`).join(',');
  }

  protected agentEntry(): string {
    return 'packages/bench/src/agents/project-agent.ts';
  }

  /** The cluster storm's failure: broker-1 SIGKILLed (no drain, no "left" mark). */
  override stopBroker(): Promise<void> {
    return this.broker.stop('SIGKILL', 1000);
  }

  override async stop(): Promise<void> {
    await super.stop();
    if (this.redis) {
      if (!this.privateRedis) await deletePrefix(this.redis, this.prefix).catch(() => undefined);
      this.redis.close();
      this.redis = undefined;
    }
    const proc = this.redisProc;
    this.redisProc = undefined;
    if (proc && proc.exitCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      proc.kill('SIGKILL');
    }
  }

  /** A private redis-server (default), or BENCH_REDIS_URL; sets `skipped` when neither is there. */
  private async startRedis(): Promise<string> {
    const given = process.env.BENCH_REDIS_URL;
    if (given) {
      try {
        this.redis = await RespClient.connect(given);
        this.privateRedis = false;
        return given;
      } catch (err) {
        this.skipped = `no Redis at BENCH_REDIS_URL ${given} (${err instanceof Error ? err.message : String(err)})`;
        return given;
      }
    }
    if (spawnSync('redis-server', ['--version']).status !== 0) {
      this.skipped = 'no redis-server on PATH (set BENCH_REDIS_URL to use a running Redis)';
      return '';
    }
    const port = await Topology.freePort();
    const log = openSync(path.join(this.opts.logDir, 'redis.log'), 'a');
    // A watcher in the same shell ends redis-server when the harness goes, even SIGKILLed.
    const script = [
      `redis-server --port ${port} --bind 127.0.0.1 --save '' --appendonly no --protected-mode no --maxclients 10000 & r=$!`,
      `trap 'kill $r 2>/dev/null; wait $r; exit 0' TERM INT`,
      `while kill -0 ${process.pid} 2>/dev/null && kill -0 $r 2>/dev/null; do sleep 1 & wait $!; done`,
      'kill $r 2>/dev/null; wait $r',
    ].join('\n');
    this.redisProc = spawn('bash', ['-c', script], { stdio: ['ignore', log, log] });
    closeSync(log);
    const url = `redis://127.0.0.1:${port}`;
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        this.redis = await RespClient.connect(url, 1000);
        if ((await this.redis.command('PING')) === 'PONG') break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        this.skipped = `redis-server did not start on ${port} (see ${this.opts.logDir}/redis.log)`;
        return url;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    this.privateRedis = true;
    return url;
  }
}

/** §8 acks off in cluster mode (SDK acks:false, client messages without ids): issue 12 item 5. */
export class AgentBridgeClusterNoAcksTopology extends AgentBridgeClusterTopology {
  override readonly name: TargetName = 'agent-bridge-cluster-noacks';
  override readonly note = 'as agent-bridge-cluster, with §8 acks off (SDK acks:false, client messages without ids)';
  protected override readonly agentEnv: Record<string, string> = { BENCH_ACKS: 'off' };
}
