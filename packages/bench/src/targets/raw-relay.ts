/** The floor: plain `ws` proxy → broker → echo agent, piping bytes (no parse, no sessions). */
import type { Child } from '../child.ts';
import { Topology, type TargetName } from './topology.ts';

export class RawRelayTopology extends Topology {
  readonly name: TargetName = 'raw-relay';
  readonly note = 'client → ws proxy → ws broker → ws agent, bytes piped unparsed; no auth, sessions, resume or limits';
  servers: Child[] = [];
  broker!: Child;

  protected async startServers(): Promise<void> {
    this.brokerPort = await Topology.freePort();
    const proxyPort = await Topology.freePort();
    this.broker = this.child('broker', 'packages/bench/src/comparators/raw-broker.ts', { BENCH_PORT: String(this.brokerPort) });
    const proxy = this.child(
      'proxy',
      'packages/bench/src/comparators/raw-proxy.ts',
      { BENCH_PORT: String(proxyPort), BENCH_UPSTREAM: `ws://127.0.0.1:${this.brokerPort}` },
      2,
    );
    this.servers = [proxy, this.broker];
    this.broker.start();
    proxy.start();
    await this.broker.readyOnPort(this.brokerPort);
    await proxy.readyOnPort(proxyPort);
    this.clientUrl = `http://127.0.0.1:${proxyPort}`;
  }

  protected agentEntry(): string {
    return 'packages/bench/src/agents/raw-agent.ts';
  }
}
