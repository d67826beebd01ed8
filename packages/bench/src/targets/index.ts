import { AgentBridgeBareTopology, AgentBridgeNoAcksTopology, AgentBridgeTopology } from './agent-bridge.ts';
import { AgentBridgeClusterNoAcksTopology, AgentBridgeClusterTopology } from './agent-bridge-cluster.ts';
import { RawRelayTopology } from './raw-relay.ts';
import { SocketIoTopology } from './socketio.ts';
import type { Topology, TargetName, TopologyOptions } from './topology.ts';

export type { TargetName } from './topology.ts';
export { Topology } from './topology.ts';
/** Run by default. */
export const TARGETS: TargetName[] = ['agent-bridge', 'raw-relay', 'socket.io', 'agent-bridge-cluster'];
/** Selectable with --targets (agent-bridge-bare prices the instrumentation, agent-bridge-noacks the §8 acks). */
export const ALL_TARGETS: TargetName[] = [...TARGETS, 'agent-bridge-bare', 'agent-bridge-noacks', 'agent-bridge-cluster-noacks'];

export function makeTopology(name: TargetName, opts: TopologyOptions): Topology {
  switch (name) {
    case 'agent-bridge':
      return new AgentBridgeTopology(opts);
    case 'agent-bridge-bare':
      return new AgentBridgeBareTopology(opts);
    case 'agent-bridge-noacks':
      return new AgentBridgeNoAcksTopology(opts);
    case 'agent-bridge-cluster':
      return new AgentBridgeClusterTopology(opts);
    case 'agent-bridge-cluster-noacks':
      return new AgentBridgeClusterNoAcksTopology(opts);
    case 'raw-relay':
      return new RawRelayTopology(opts);
    case 'socket.io':
      return new SocketIoTopology(opts);
  }
}
