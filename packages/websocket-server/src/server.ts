/**
 * startBroker: the HTTP server, the WebSocket upgrade (auth before any handshake), and the
 * wiring of state, routing, heartbeat and metrics. close() stops accepting, closes every socket
 * with 1001, clears every timer and resolves once the port is free.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { BrokerPath, CloseCode, createLogger, LISTEN_BACKLOG, redactUrl, urlHost, type Config, type Logger } from '@agent-bridge/common';
import { wireBroker } from './broker-parts.ts';
import { createHttpHandler } from './http-routes.ts';
import { createHopTracer, type HopTracer } from '@agent-bridge/common/otel';
import { BrokerOps, brokerNodeId, brokerView } from './instrumentation.ts';
import { Liveness } from './liveness.ts';
import { MemoryLocalHub } from './local-hub.ts';
import { BrokerMetrics } from './metrics.ts';
import { latest, settle } from './store/awaitable.ts';
import { withMemoryDefaults, type BrokerStores } from './store/stores.ts';
import { redisStores } from './store/redis/redis-stores.ts';
import { MemorySessionLog } from './store/session-log-memory.ts';
import { authorizeUpgrade, rejectUpgrade, type UpgradeDecision, type UpgradeTarget } from './upgrade-auth.ts';

export interface BrokerHandle {
  /** http://HOST:PORT */
  url: string;
  /** ws://HOST:PORT */
  wsUrl: string;
  port: number;
  epoch: string;
  nodeId: string;
  /** SIGTERM, before close(): /readyz answers 503 from now on (PROTOCOL §11). */
  drain(): void;
  close(): Promise<void>;
}

export interface BrokerOptions {
  logger?: Logger;
  /** OpenTelemetry hop spans (tests: an in-memory exporter); default from OTEL_EXPORTER_OTLP_ENDPOINT. */
  tracer?: HopTracer;
  /**
   * The state seams (store/): sessions, session log, agent directory, wait queues, rate limits,
   * epoch and cluster bus. Any left out is the in-process memory one (the default broker).
   */
  stores?: Partial<BrokerStores>;
  /** Injected stores are shared with other brokers (tests of cluster mode without REDIS_URL). */
  clustered?: boolean;
  /** Every frame the broker writes to a socket, as text (tests: check them against the schemas). */
  onFrameOut?: (peer: 'agent' | 'client', text: string) => void;
}

/** How long close() lets peers answer the 1001 close before cutting them. */
const CLOSE_GRACE_MS = 1000;

export async function startBroker(config: Config, opts: BrokerOptions = {}): Promise<BrokerHandle> {
  const log = opts.logger ?? createLogger('broker', { level: config.LOG_LEVEL });
  const startedAt = Date.now();
  let draining = false;
  const liveness = new Liveness(config.HEARTBEAT_INTERVAL_MS, config.HEARTBEAT_TIMEOUT_MS);
  const hub = new MemoryLocalHub();
  const nodeId = config.NODE_ID;
  // This run of the broker in the cluster's records (session owners, agent entries, heartbeats):
  // NODE_ID, `~` (never in a NODE_ID) and a per-start suffix, so a broker restarted under the same NODE_ID is not taken for
  // its dead predecessor, whose sessions and agents the sweeper then takes over (at once: the
  // same NODE_ID starting again means the previous run is gone).
  const instance = `${nodeId}~${randomUUID().slice(0, 8)}`;
  // Cluster mode (§10): REDIS_URL selects the shared stores, unless a caller injected its own.
  // The Redis hooks may fire before the metrics exist (a failure while connecting): they wait for them.
  let counted: BrokerMetrics | undefined;
  const shared =
    opts.stores === undefined && config.REDIS_URL !== undefined
      ? await redisStores(config, {
          log,
          nodeId: instance,
          onRedisError: () => counted?.m.redisErrors.inc(),
          onRedisReconnect: () => counted?.m.redisReconnects.inc(),
          onCrossBrokerLag: (ms) => counted?.m.crossBrokerLag.observe(Math.max(0, ms) / 1000),
        })
      : undefined;
  // The evictions are counted by the metrics made below (only ever called after both exist).
  const stores = withMemoryDefaults(config, shared ?? opts.stores, { onResumeEvicted: (n) => metrics.resumeEvicted.inc(n) });
  // Stores main.ts built (to snapshot them) report evictions through the same counter.
  if (opts.stores?.log instanceof MemorySessionLog) opts.stores.log.onEvicted((n) => metrics.resumeEvicted.inc(n));
  const clustered = shared !== undefined || opts.clustered === true;
  let closing = (): boolean => false;
  // Ready while listening, not draining and (cluster mode) while Redis answers (§10, §11).
  const notReady = () => {
    const reasons = draining || closing() ? ['draining'] : [];
    if (stores.reachable && !stores.reachable()) reasons.push('redis');
    return reasons;
  };
  // The metrics read the state lazily (at scrape time), through the hub and the stores.
  const view = brokerView(hub, stores, () => notReady().length === 0);
  const metrics = new BrokerMetrics(view, {
    perFrame: config.METRICS === 'on',
    onFrameOut: opts.onFrameOut,
  });
  counted = metrics;
  const epoch = await stores.epoch.current();
  let currentEpoch = epoch;
  // §10: Redis came back empty and the cluster took a new epoch: every socket redials into it.
  stores.epoch.onChange?.((next) => {
    currentEpoch = next;
    log.warn({ epoch: next }, 'the shared state was lost: new epoch; closing every socket with 1012');
    for (const ws of wss.clients) ws.close(CloseCode.serviceRestart, 'state lost: reconnect');
  });
  // OpenTelemetry export only when OTEL_EXPORTER_OTLP_ENDPOINT is set (else a no-op, nothing loaded).
  const tracer = opts.tracer ?? (await createHopTracer({ service: 'agent-bridge-broker' }));
  const sessionCount = latest(() => stores.sessions.size(), 0);
  const parts = wireBroker({ cfg: config, log, metrics, liveness, stores, tracer, hub, nodeId: instance, predecessors: `${nodeId}~`, clustered });
  const { clients, agents, router, shutdown } = parts;
  closing = () => shutdown.closing;
  const onError = (err: unknown) => log.warn({ err }, 'a broker store failed');
  let ops: BrokerOps | undefined;

  const wss = new WebSocketServer({ noServer: true, maxPayload: config.MAX_MESSAGE_BYTES, perMessageDeflate: false });
  const server = http.createServer(
    {
      // Slowloris: a request (or an upgrade) must finish its headers in HTTP_HEADERS_TIMEOUT_MS
      // and its body in HTTP_REQUEST_TIMEOUT_MS. Node checks these every
      // connectionsCheckingInterval (30 s by default, far too coarse for a 10 s bound).
      headersTimeout: config.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeout: Math.max(config.HTTP_REQUEST_TIMEOUT_MS, config.HTTP_HEADERS_TIMEOUT_MS),
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(config.HTTP_HEADERS_TIMEOUT_MS / 4))),
    },
    createHttpHandler({
      cfg: config,
      registry: metrics.registry,
      health: () => ({
        status: 'ok',
        uptimeS: Math.floor((Date.now() - startedAt) / 1000),
        agents: hub.agentCount,
        clients: hub.clientCount,
        sessions: sessionCount(),
        nodeId,
        cluster: clustered,
        epoch: currentEpoch,
      }),
      notReady,
      ops: () => ops?.node(),
      onRequest: (path, method, status, seconds) => metrics.request(path, method, status, seconds),
      setIdentity: (clientId, address) => clients.setIdentity(clientId, address),
    }),
  );

  // Beyond MAX_CONNECTIONS Node drops new TCP connections at once, before they cost anything.
  // (CONNECTIONS_PER_IP is not applied here: the broker's client sockets all come from the web
  // servers' few addresses; browsers are bounded per IP by MAX_SESSIONS_PER_IP instead.)
  server.maxConnections = config.MAX_CONNECTIONS;
  server.on('drop', () => metrics.m.connectionsRefused.inc({ reason: 'max_connections' }));

  /** 503 over_capacity before any handshake: the peer may retry later. */
  const overCapacity = (socket: Duplex, budget: string, message: string) => {
    metrics.capacityRefusals.inc({ budget });
    log.warn({ budget }, 'upgrade refused: over capacity');
    rejectUpgrade(socket, 503, 'over_capacity', message);
  };

  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => undefined);
    if (shutdown.closing) return rejectUpgrade(socket, 503, 'internal', 'shutting down');
    // §10: without the shared store nothing can be stored: refuse new sockets, keep the open ones.
    if (stores.reachable && !stores.reachable()) {
      metrics.capacityRefusals.inc({ budget: 'redis' });
      return rejectUpgrade(socket, 503, 'unavailable', 'the shared store is unreachable; retry later');
    }
    let decision: UpgradeDecision;
    try {
      decision = authorizeUpgrade(req, config);
    } catch {
      return rejectUpgrade(socket, 400, 'bad_request', 'malformed request');
    }
    if (!decision.ok) {
      const kind = (req.url ?? '').startsWith(BrokerPath.agent) ? 'agent' : 'client';
      metrics.m.upgradesRejected.inc({ kind, status: String(decision.status) });
      log.info({ url: redactUrl(req.url), status: decision.status, code: decision.code }, 'upgrade refused');
      return rejectUpgrade(socket, decision.status, decision.code, decision.message);
    }
    const target = decision.target;
    if (target.kind === 'agent') {
      if (agents.full) return overCapacity(socket, 'agents', 'too many agent connections; retry later');
      return accept(req, socket, head, target);
    }
    settle(
      Promise.resolve(clients.refusal(target)).then((refusal) => {
        if (refusal) return overCapacity(socket, refusal, refusal === 'sessions' ? 'too many sessions; retry later' : 'too many sessions from this address; retry later');
        accept(req, socket, head, target);
      }),
      onError,
    );
  });

  const accept = (req: http.IncomingMessage, socket: Duplex, head: Buffer, target: UpgradeTarget): void => {
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      ws.on('error', (err) => log.debug({ err: err.message }, 'socket error'));
      if (shutdown.closing) return ws.close(CloseCode.goingAway, 'server shutting down');
      // Frames that arrive while the connection attaches wait for it, in order.
      const early: [RawData, boolean][] = [];
      let onFrame = (data: RawData, isBinary: boolean): void => void early.push([data, isBinary]);
      ws.on('message', (data, isBinary) => onFrame(data, isBinary));
      // A store that failed while the connection attached: 1011, the peer redials.
      const failed = (err: unknown) => {
        onError(err);
        ws.close(CloseCode.internal, 'internal error');
      };
      const attached = (handle: (data: RawData, isBinary: boolean) => void) => {
        onFrame = handle;
        for (const [data, isBinary] of early.splice(0)) handle(data, isBinary);
      };
      if (target.kind === 'agent') {
        // Checked again: the handshake may complete after other upgrades took the last places.
        if (agents.full) return ws.close(CloseCode.slowConsumer, 'over capacity: retry later');
        settle(
          agents.attach(ws, target.name, target.acks, target.acceptedInline).then((conn) => attached((data, isBinary) => router.onAgentFrame(conn, data, isBinary)), failed),
          onError,
        );
        return;
      }
      settle(
        Promise.resolve(clients.refusal(target)).then(async (refusal) => {
          if (refusal !== undefined) return ws.close(CloseCode.slowConsumer, 'over capacity: retry later');
          const conn = await clients.attach(ws, target);
          attached((data, isBinary) => router.onClientFrame(conn, data, isBinary));
        }).catch(failed),
        onError,
      );
    });
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: config.broker.port, host: config.broker.host, backlog: LISTEN_BACKLOG }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = urlHost(config.broker.host);
  ops = new BrokerOps(metrics, view, brokerNodeId(port, epoch), notReady);
  ops.history.start();

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closed ??= (async () => {
      draining = true;
      shutdown.begin();
      await stores.waitQueues.clear();
      clients.shutdown();
      agents.shutdown();
      parts.unsubscribe();
      liveness.stop();
      ops?.history.stop();
      await Promise.resolve(stores.nodes.leave()).catch(onError);
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      const sockets = [...wss.clients];
      for (const ws of sockets) ws.close(CloseCode.goingAway, 'server shutting down');
      await Promise.race([
        Promise.all(sockets.map((ws) => (ws.readyState === ws.CLOSED ? undefined : new Promise((r) => ws.once('close', r))))),
        new Promise((r) => setTimeout(r, CLOSE_GRACE_MS).unref()),
      ]);
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await serverClosed;
      await stores.close?.();
      // Our own tracer only: one passed in belongs to the caller.
      if (!opts.tracer) await tracer.shutdown();
      log.info('broker closed');
    })());

  const drain = () => {
    draining = true;
  };
  return { url: `http://${host}:${port}`, wsUrl: `ws://${host}:${port}`, port, epoch, nodeId, drain, close };
}
