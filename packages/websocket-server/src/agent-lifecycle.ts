/**
 * Agent connections joining and leaving (PROTOCOL §2, §3): a new connection enters the agent
 * directory, gets its welcome (the paged client list), and the name's wait queue; clients hear
 * `agent.connected` for a name's first connection and `agent.disconnected` for its last. A gone
 * connection's undelivered client messages are re-pinned or put back (agent-routing.ts).
 */
import { randomUUID } from 'node:crypto';
import type WebSocket from 'ws';
import { CloseCode, FrameType, closeReason, type Config, type Logger } from '@agent-bridge/common';
import type { Acceptance } from './acks.ts';
import { AgentConnection } from './agent-connection.ts';
import type { AgentRouting } from './agent-routing.ts';
import { agentWelcomeFrames } from './client-list.ts';
import type { LifecycleEvents } from './lifecycle-events.ts';
import type { Liveness } from './liveness.ts';
import type { LocalHub } from './local-hub.ts';
import type { MailboxOptions } from './mailbox.ts';
import type { BrokerMetrics } from './metrics.ts';
import type { Shutdown } from './shutdown.ts';
import type { AgentEntry } from './store/agent-directory.ts';
import type { BrokerStores } from './store/stores.ts';

export interface AgentLifecycleDeps {
  cfg: Config;
  log: Logger;
  metrics: BrokerMetrics;
  liveness: Liveness;
  stores: BrokerStores;
  hub: LocalHub;
  routing: AgentRouting;
  events: LifecycleEvents;
  shutdown: Shutdown;
  mailbox: MailboxOptions;
  /** This broker's id in the agent directory. */
  nodeId: string;
  /** §8: unacknowledged client messages of opted-in connections. */
  acceptance: Acceptance;
  onError(err: unknown): void;
}

export class AgentLifecycle {
  constructor(private readonly deps: AgentLifecycleDeps) {}

  /** Whether another agent connection may attach to this broker (MAX_AGENT_CONNECTIONS). */
  get full(): boolean {
    return this.deps.hub.agentCount >= this.deps.cfg.MAX_AGENT_CONNECTIONS;
  }

  async attach(ws: WebSocket, name: string, acks = false, acceptedInline = false): Promise<AgentConnection> {
    const { cfg, liveness, metrics, log, stores, hub, acceptance } = this.deps;
    const mailboxOpts = acceptedInline ? { ...this.deps.mailbox, carryLazy: true } : this.deps.mailbox;
    const conn: AgentConnection = new AgentConnection(ws, name, randomUUID(), mailboxOpts, {
      onOverflow: (c) => this.cut(c, CloseCode.slowConsumer, 'slow consumer'),
      onSent: (item, text, carried = 0) => {
        const bytes = item.meta?.bytes;
        metrics.frameOut('agent', item.type, text, item.meta?.receivedAt, bytes === undefined ? undefined : bytes + carried);
        // §8: written to an opted-in socket, it is held until acknowledged; to a v1 socket it is
        // delivered (a cluster forgets the copy it held in Redis, or it would come again).
        if (item.meta !== undefined && (conn.acks || acceptance.clustered)) acceptance.handed(conn, item.meta);
      },
    });
    conn.acks = acks;
    liveness.watch(ws, (s) => metrics.heartbeatRtt('agent', s));
    ws.on('close', (code) => {
      metrics.closed('agent', code, name);
      this.detach(conn).catch(this.deps.onError);
    });
    metrics.opened('agent');
    hub.addAgent(conn);
    const first = await stores.directory.add(this.entry(conn));
    await stores.nodes.holdsAgent(name, conn.agentId, true);
    const records = await stores.sessions.list();
    // `connected`: a socket holds the session now (a detached one has its expiry set).
    const clients = records.map((r) => ({ clientId: r.clientId, address: r.address, connected: r.expiresAt === null }));
    // Paged so that no frame exceeds MAX_MESSAGE_BYTES (client-list.ts). All pages are queued in
    // this turn, so no lifecycle event can fall between them; they are bounded by MAX_SESSIONS,
    // not by the mailbox limit.
    const head = { agent: name, agentId: conn.agentId, heartbeatMs: cfg.HEARTBEAT_INTERVAL_MS, acks };
    agentWelcomeFrames(head, clients, cfg.MAX_MESSAGE_BYTES).forEach((payload, i) =>
      conn.send(i === 0 ? FrameType.welcome : FrameType.clients, payload, true),
    );
    conn.open();
    log.info({ agent: name, agentId: conn.agentId }, 'agent connected');
    if (first) this.deps.events.toAllClients('agent.connected', { agent: name });
    await this.deps.routing.drain(name);
    return conn;
  }

  cut(conn: AgentConnection, code: number, reason: string): void {
    this.detach(conn).catch(this.deps.onError);
    conn.ws.close(code, closeReason(reason));
  }

  /**
   * Close the socket without leaving the directory or routing anything again: another broker took
   * this one over (cluster-sweeper.ts) and did both already; the agent redials.
   */
  letGo(conn: AgentConnection, code: number, reason: string): void {
    this.deps.liveness.unwatch(conn.ws);
    conn.detached = true;
    this.deps.hub.removeAgent(conn);
    conn.takeUndelivered();
    conn.ws.close(code, closeReason(reason));
  }

  /** Shutdown: stop every mailbox; sockets are closed by the server. */
  shutdown(): void {
    for (const c of this.deps.hub.agents()) c.mailbox.close();
  }

  /** The connection is gone: leave the directory, and put back the client messages it never got. */
  private async detach(conn: AgentConnection): Promise<void> {
    this.deps.liveness.unwatch(conn.ws);
    if (conn.detached) return;
    conn.detached = true;
    this.deps.hub.removeAgent(conn);
    const { acceptance } = this.deps;
    const mailbox = conn.takeUndelivered();
    // A cluster broker shutting down leaves its connections to the survivor that takes its node
    // over (cluster-sweeper.ts): its Redis link is about to close.
    if (this.deps.shutdown.closing && acceptance.clustered) return;
    // A cluster fences the name first: fresh messages for it wait until this connection's are
    // routed again (putBack lifts it), so none overtakes them.
    if (acceptance.clustered) await acceptance.fence(conn.name, true);
    const last = await this.deps.stores.directory.remove(this.entry(conn));
    await this.deps.stores.nodes.holdsAgent(conn.name, conn.agentId, false);
    // §8: what its socket got but it never acknowledged goes first (older), then what it never
    // got. A cluster has both in Redis (and what was on the bus to it): taken once it left the
    // directory, so nothing more can be added for it.
    const again = await acceptance.redeliver(conn);
    const undelivered = acceptance.clustered ? again : [...again, ...mailbox];
    if (this.deps.shutdown.closing) return;
    this.deps.log.info({ agent: conn.name, agentId: conn.agentId, requeued: undelivered.length }, 'agent disconnected');
    if (last) this.deps.events.toAllClients('agent.disconnected', { agent: conn.name });
    await this.deps.routing.putBack(conn.name, undelivered, !last);
  }

  private entry(conn: AgentConnection): AgentEntry {
    return { name: conn.name, agentId: conn.agentId, node: this.deps.nodeId };
  }
}
