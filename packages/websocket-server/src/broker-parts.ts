/**
 * The broker's parts wired together over its stores: this process's sockets (hub), delivery to
 * sessions, lifecycle events (and what the cluster bus asks of this broker), routing to agents,
 * the client and agent lifecycles and the router. No part reaches another through a mutable hook.
 */
import { CloseCode, type Config, type Logger } from '@agent-bridge/common';
import type { HopTracer } from '@agent-bridge/common/otel';
import { Acceptance } from './acks.ts';
import { AgentLifecycle } from './agent-lifecycle.ts';
import { AgentRouting } from './agent-routing.ts';
import { ClientLifecycle } from './client-lifecycle.ts';
import { ClusterSweeper } from './cluster-sweeper.ts';
import { settle } from './store/awaitable.ts';
import { mergeOutItems } from './coalescing.ts';
import { LifecycleEvents } from './lifecycle-events.ts';
import type { Liveness } from './liveness.ts';
import { MemoryLocalHub, type LocalHub } from './local-hub.ts';
import type { MailboxOptions } from './mailbox.ts';
import type { BrokerMetrics } from './metrics.ts';
import { Router } from './router.ts';
import { SessionRuns } from './runs.ts';
import { SessionDelivery } from './session-delivery.ts';
import { Shutdown } from './shutdown.ts';
import type { BrokerStores } from './store/stores.ts';

/** How long a client message waits before being routed again after its agent connection went. */
const REROUTE_DELAY_MS = 50;

export interface BrokerParts {
  hub: LocalHub;
  shutdown: Shutdown;
  clients: ClientLifecycle;
  agents: AgentLifecycle;
  router: Router;
  events: LifecycleEvents;
  sweeper: ClusterSweeper;
  /** Stop listening to the bus. */
  unsubscribe: () => void;
}

export interface PartsDeps {
  cfg: Config;
  log: Logger;
  metrics: BrokerMetrics;
  liveness: Liveness;
  stores: BrokerStores;
  tracer: HopTracer;
  nodeId: string;
  /** Cluster: earlier runs of this NODE_ID are named with this prefix (taken over at start). */
  predecessors?: string;
  /** Cluster mode (shared stores): other brokers exist. */
  clustered?: boolean;
  /** This broker's sockets (shared with the metrics view, built before the parts). */
  hub?: LocalHub;
}

export function wireBroker(deps: PartsDeps): BrokerParts {
  const { cfg, log, metrics, liveness, stores, tracer } = deps;
  const onError = (err: unknown): void => log.warn({ err }, 'a broker store failed');
  const hub = deps.hub ?? new MemoryLocalHub();
  const shutdown = new Shutdown();
  const runs = new SessionRuns(stores.runs);
  const mailbox: MailboxOptions = { limit: cfg.MAILBOX_LIMIT, socketBufferBytes: cfg.SOCKET_BUFFER_BYTES, pollMs: 10 };
  const clustered = deps.clustered === true;
  const delivery = new SessionDelivery(stores.log, hub, stores.bus, metrics, clustered);
  // `clients` exists before the bus delivers anything: the events only call it on a kick.
  let clients: ClientLifecycle | undefined;
  const events = new LifecycleEvents(stores.bus, hub, stores.sessions, delivery, shutdown, onError, (id, code, reason) =>
    clients?.kick(id, code, reason),
  );
  const acceptance = new Acceptance(
    delivery,
    metrics,
    { sessionTtlMs: cfg.SESSION_TTL_MS, agentQueueLimit: cfg.AGENT_QUEUE_LIMIT },
    stores.acks ? { records: stores.acks, inflight: stores.inflight } : undefined,
    onError,
  );
  const routing = new AgentRouting(stores.directory, stores.waitQueues, hub, stores.bus, delivery, metrics, shutdown, onError, acceptance);
  clients = new ClientLifecycle({
    cfg,
    log,
    metrics,
    liveness,
    stores,
    hub,
    delivery,
    events,
    runs,
    shutdown,
    // A client's mailbox also coalesces run deltas while frames wait (PROTOCOL §9).
    mailbox: { ...mailbox, merge: mergeOutItems(cfg.MAX_MESSAGE_BYTES) },
    acceptance,
    nodeId: deps.nodeId,
    onError,
  });
  const agents = new AgentLifecycle({ cfg, log, metrics, liveness, stores, hub, routing, events, shutdown, mailbox, nodeId: deps.nodeId, acceptance, onError });
  const router = new Router({ cfg, log, metrics, liveness, stores, runs, routing, delivery, clients, shutdown, tracer, acceptance });
  // A client message whose agent connection went before it arrived: a moment later, route it again.
  events.reroute = (entry) => {
    // A cluster holds it in Redis for that connection: the connection's redelivery has it.
    if (acceptance.clustered) return;
    const t = setTimeout(() => settle(routing.toAgent(entry), onError), REROUTE_DELAY_MS);
    t.unref();
  };
  const sweeper = new ClusterSweeper({
    stores,
    clients,
    events,
    routing,
    acceptance,
    shutdown,
    log,
    sessionTtlMs: cfg.SESSION_TTL_MS,
    deadAfterMs: Math.max(3000, Math.min(cfg.HEARTBEAT_TIMEOUT_MS, 10_000)),
    predecessors: deps.predecessors,
    hub: clustered ? hub : undefined,
    // Cut off from Redis for longer than the dead-after bound, this broker was taken over: its
    // sessions were detached (announced once) and its agent connections routed around. Its open
    // sockets are no longer its own: close them (1001, reconnect) so each resumes where the
    // cluster now holds it, instead of expiring under a socket that looks alive.
    onTakenOver: () => {
      const sockets = [...hub.clients()];
      const agentConns = hub.agents();
      log.warn({ node: deps.nodeId, clients: sockets.length, agents: agentConns.length }, 'this broker was taken over while cut off from Redis; closing its sockets');
      for (const c of sockets) clients?.cut(c, CloseCode.goingAway, 'taken over by another broker: reconnect', true);
      for (const a of agentConns) agents.letGo(a, CloseCode.goingAway, 'taken over by another broker: reconnect');
    },
  });
  sweeper.start();
  routing.onSuspect = (node) => sweeper.suspect(node);
  clients.onSuspect = (node) => sweeper.suspect(node);
  const stopBus = stores.bus.subscribe((m) => {
    // An identity change made at another broker: a session this broker holds answers with it now.
    if (m.kind === 'identity') stores.intake?.identity?.(m.clientId, m.address);
    events.handle(m);
  });
  // Frame notifications lost while the bus was away: every socket here re-reads its log.
  stores.bus.onResubscribed?.(() => {
    for (const c of hub.clients()) c.gate.poke();
  });
  const unsubscribe = (): void => {
    stopBus();
    sweeper.stop();
    acceptance.close();
  };
  return { hub, shutdown, clients, agents, router, events, sweeper, unsubscribe };
}
