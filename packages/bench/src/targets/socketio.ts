/** Socket.IO: one server in the broker's role, clients connect to it directly (no proxy hop). */
import type { Child } from '../child.ts';
import { Topology, type TargetName } from './topology.ts';

export class SocketIoTopology extends Topology {
  readonly name: TargetName = 'socket.io';
  readonly note =
    'client → Socket.IO server → socket.io-client agent, rooms for routing; clients connect DIRECTLY (no proxy hop: one process and one hop fewer than the others)';
  servers: Child[] = [];
  broker!: Child;

  protected async startServers(): Promise<void> {
    this.brokerPort = await Topology.freePort();
    this.broker = this.child('server', 'packages/bench/src/comparators/socketio-server.ts', {
      BENCH_PORT: String(this.brokerPort),
      BENCH_AGENT_TOKEN: this.agentToken,
    });
    this.servers = [this.broker];
    this.broker.start();
    await this.broker.readyOnPort(this.brokerPort);
    this.clientUrl = `http://127.0.0.1:${this.brokerPort}`;
  }

  protected agentEntry(): string {
    return 'packages/bench/src/agents/socketio-agent.ts';
  }
}
