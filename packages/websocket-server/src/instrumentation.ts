/**
 * What the broker's metrics and ops view read from its state (issue 15): the scrape-time view of
 * connections, sessions, pools, wait queues and mailboxes, and the broker's node in GET /api/ops
 * (served to the web server as GET /internal/ops with PROXY_TOKEN).
 */
import { hostname } from 'node:os';
import { OpsHistory } from '@agent-bridge/common/metrics';
import type { OpsNode } from '@agent-bridge/common';
import type { BrokerMetrics, BrokerView } from './metrics.ts';
import type { SessionStore } from './session-store.ts';
import type { StateManager } from './state-manager.ts';

export function brokerView(state: () => StateManager, sessions: SessionStore, ready: () => boolean): BrokerView {
  return {
    connections: () => ({ agent: state().agents.connectionCount, client: state().connectedClients }),
    sessions: () => {
      const connected = state().connectedClients;
      return { connected, detached: Math.max(0, sessions.size - connected) };
    },
    agents: () => new Map(state().agents.names().map((name) => [name, state().agents.get(name)?.size ?? 0])),
    waitQueues: () => state().waitQueues.depths(),
    waitQueueBytes: () => state().waitQueues.bytes,
    resumeBufferBytes: () => state().resumeBudget.bytes,
    mailboxes: () => {
      const client: number[] = [];
      for (const s of sessions.values()) if (s.conn) client.push(s.conn.mailbox.size);
      return { agent: state().agents.connections().map((c) => c.mailbox.size), client };
    },
    ready,
  };
}

export class BrokerOps {
  readonly history: OpsHistory;
  private readonly startedAt = Date.now();

  constructor(
    private readonly metrics: BrokerMetrics,
    private readonly view: BrokerView,
    private readonly nodeId: string,
    private readonly notReady: () => string[],
  ) {
    this.history = new OpsHistory({ framesIn: metrics.m.framesIn, framesOut: metrics.m.framesOut, latency: metrics.m.deliveryLatency });
  }

  node(): OpsNode {
    const reasons = this.notReady();
    const pools = this.view.agents();
    const waiting = this.view.waitQueues();
    const names = [...new Set([...pools.keys(), ...waiting.keys()])].sort();
    return {
      nodeId: this.nodeId,
      service: 'broker',
      ready: reasons.length === 0,
      reasons,
      uptimeS: Math.round((Date.now() - this.startedAt) / 1000),
      connections: this.view.connections(),
      sessions: this.view.sessions(),
      agents: names.map((name) => ({ name, connections: pools.get(name) ?? 0, waiting: waiting.get(name) ?? 0 })),
      recentErrors: this.metrics.recentErrors.list(),
      recentCloses: this.metrics.recentCloses.list(),
      now: this.history.latest(),
      sampleIntervalMs: this.history.intervalMs,
      history: this.history.history(),
    };
  }
}

export const brokerNodeId = (port: number, epoch: string): string => `broker@${hostname()}:${port}/${epoch.slice(0, 8)}`;
