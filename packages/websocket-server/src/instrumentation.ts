/**
 * What the broker's metrics and ops view read from its state (issue 15): the scrape-time view of
 * connections, sessions, pools, wait queues and mailboxes, and the broker's node in GET /api/ops
 * (served to the web server as GET /internal/ops with PROXY_TOKEN).
 */
import { hostname } from 'node:os';
import { OpsHistory } from '@agent-bridge/common/metrics';
import type { OpsNode } from '@agent-bridge/common';
import type { LocalHub } from './local-hub.ts';
import type { BrokerMetrics, BrokerView } from './metrics.ts';
import { latest } from './store/awaitable.ts';
import type { BrokerStores } from './store/stores.ts';

/** This broker's sockets (the hub) and what the stores hold, read at scrape time. */
export function brokerView(hub: LocalHub, stores: BrokerStores, ready: () => boolean): BrokerView {
  // A shared store (cluster) answers with Promises: each gauge shows its latest answer.
  const sessionCount = latest(() => stores.sessions.size(), 0);
  const depths = latest(() => stores.waitQueues.depths(), new Map<string, number>());
  const heldBytes = latest(() => stores.waitQueues.heldBytes(), 0);
  const resumeBytes = latest(() => stores.log.bytes(), 0);
  return {
    connections: () => ({ agent: hub.agentCount, client: hub.clientCount }),
    sessions: () => {
      const connected = hub.clientCount;
      // In a cluster the total is the cluster's; detached is what no broker's socket holds here.
      return { connected, detached: Math.max(0, sessionCount() - connected) };
    },
    agents: () => hub.agentCounts(),
    waitQueues: depths,
    waitQueueBytes: heldBytes,
    resumeBufferBytes: resumeBytes,
    mailboxes: () => {
      const client: number[] = [];
      for (const c of hub.clients()) client.push(c.mailbox.size);
      return { agent: hub.agents().map((c) => c.mailbox.size), client };
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
