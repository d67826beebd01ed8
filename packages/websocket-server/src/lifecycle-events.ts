/**
 * The lifecycle events (PROTOCOL §3): to every agent connection (client.connected / disconnected
 * / expired / authenticated / signed_out) and to every session (agent.connected / disconnected,
 * seq'd). Agents' events go through the cluster bus, so each broker sends them to its own agent
 * connections; a session's event is appended to its log once, by the broker that saw the change,
 * and reaches its socket wherever it is. This is also where this broker acts on the bus.
 */
import { FrameType, closeReason, type SystemEvent, type SystemEventFields } from '@agent-bridge/common';
import { systemFrame } from './frames-out.ts';
import type { LocalHub } from './local-hub.ts';
import type { SessionDelivery } from './session-delivery.ts';
import type { Shutdown } from './shutdown.ts';
import { settle, andThen } from './store/awaitable.ts';
import type { BusMessage, ClusterBus } from './store/cluster-bus.ts';
import type { SessionStore } from './store/session-store.ts';
import type { WaitEntry } from './store/wait-queue-store.ts';

export type AgentEvent = 'client.connected' | 'client.disconnected' | 'client.expired';
export type ClientEvent = 'agent.connected' | 'agent.disconnected';

export class LifecycleEvents {
  constructor(
    private readonly bus: ClusterBus,
    private readonly hub: LocalHub,
    private readonly sessions: SessionStore,
    private readonly delivery: SessionDelivery,
    private readonly shutdown: Shutdown,
    private readonly onError: (err: unknown) => void,
    /** A client socket this broker must close without a lifecycle event (kick, 4500). */
    private readonly cutSilently: (clientId: string, code: number, reason: string) => void,
  ) {}

  /** Cluster: a client message whose agent connection had gone when it arrived here. */
  reroute?: (entry: WaitEntry) => void;

  toAllAgents<E extends AgentEvent>(event: E, fields: SystemEventFields<E>): void {
    if (this.shutdown.closing) return;
    settle(this.bus.publish({ kind: 'lifecycle', event, fields }), this.onError);
  }

  /** client.authenticated, or client.signed_out for null. */
  identity(clientId: string, address: string | null): void {
    if (this.shutdown.closing) return;
    settle(this.bus.publish({ kind: 'identity', clientId, address }), this.onError);
  }

  toAllClients<E extends ClientEvent>(event: E, fields: SystemEventFields<E>): void {
    if (this.shutdown.closing) return;
    const entry = { type: FrameType.system, render: (seq: number) => systemFrame(event, fields, seq) };
    settle(
      andThen(this.sessions.ids(), (ids) => {
        for (const stored of this.delivery.deliverAll(ids, 'system', entry)) settle(stored, this.onError);
      }),
      this.onError,
    );
  }

  /** What another broker (or, in memory, this one) asks of this broker's sockets. */
  handle(message: BusMessage): void {
    if (this.shutdown.closing) return;
    switch (message.kind) {
      case 'lifecycle':
        return this.sendToAgents(message.event, message.fields);
      case 'identity':
        return message.address === null
          ? this.sendToAgents('client.signed_out', { clientId: message.clientId })
          : this.sendToAgents('client.authenticated', { clientId: message.clientId, address: message.address });
      case 'deliver': {
        const f = message.frame;
        this.hub.client(message.clientId)?.deliver({ payload: f.payload, body: f.body, kind: message.frameKind, type: f.type, seq: f.seq });
        return;
      }
      case 'client.message':
      case 'client.messages': {
        const conn = this.hub.agent(message.agentId);
        const entries = message.kind === 'client.message' ? [message.entry] : message.entries;
        for (const entry of entries) {
          // The connection went before the message arrived: route it again (re-pin or wait queue).
          if (conn && !conn.detached) conn.sendClientMessage(entry);
          else this.reroute?.(entry);
        }
        return;
      }
      case 'kick':
        if (this.hub.client(message.clientId)) this.cutSilently(message.clientId, message.code, closeReason(message.reason));
        return;
      case 'deliver.batch':
        for (const [clientId, seq] of message.items) {
          this.hub.client(clientId)?.deliver({ payload: message.head + seq + message.tail, kind: message.frameKind, type: message.type, seq });
        }
        return;
      case 'error':
        this.hub.client(message.clientId)?.push({ payload: message.payload, kind: 'direct', type: FrameType.error });
        return;
      case 'agent.up':
      case 'agent.down':
        // The directory is shared: nothing cached here to refresh (a cluster re-pins on these).
        return;
    }
  }

  private sendToAgents(event: SystemEvent, fields: Record<string, unknown>): void {
    const payload = systemFrame(event, fields as never);
    // Not counted against MAILBOX_LIMIT: a reconnect storm is one event per session (bounded by
    // MAX_SESSIONS), and an agent must not be cut for being told about it.
    for (const conn of this.hub.agents()) conn.send(FrameType.system, payload, true);
  }
}
