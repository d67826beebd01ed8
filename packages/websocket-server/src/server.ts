/**
 * startBroker: the HTTP server, the WebSocket upgrade (auth before any handshake), and the
 * wiring of state, routing, heartbeat and metrics. close() stops accepting, closes every socket
 * with 1001, clears every timer and resolves once the port is free.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { v4 as uuidv4 } from 'uuid';
import { BrokerPath, CloseCode, createLogger, redactUrl, urlHost, type Config, type Logger } from '@agent-bridge/common';
import { Heartbeat } from './heartbeat.ts';
import { createHttpHandler } from './http-routes.ts';
import { createHopTracer, type HopTracer } from '@agent-bridge/common/otel';
import { BrokerOps, brokerNodeId, brokerView } from './instrumentation.ts';
import { BrokerMetrics } from './metrics.ts';
import { Router } from './router.ts';
import { MemorySessionStore } from './session-store.ts';
import { StateManager } from './state-manager.ts';
import { authorizeUpgrade, rejectUpgrade, type UpgradeDecision } from './upgrade-auth.ts';

export interface BrokerHandle {
  /** http://HOST:PORT */
  url: string;
  /** ws://HOST:PORT */
  wsUrl: string;
  port: number;
  epoch: string;
  /** SIGTERM, before close(): /readyz answers 503 from now on (PROTOCOL §11). */
  drain(): void;
  close(): Promise<void>;
}

export interface BrokerOptions {
  logger?: Logger;
  /** OpenTelemetry hop spans (tests: an in-memory exporter); default from OTEL_EXPORTER_OTLP_ENDPOINT. */
  tracer?: HopTracer;
}

/** How long close() lets peers answer the 1001 close before cutting them. */
const CLOSE_GRACE_MS = 1000;

export async function startBroker(config: Config, opts: BrokerOptions = {}): Promise<BrokerHandle> {
  const log = opts.logger ?? createLogger('broker', { level: config.LOG_LEVEL });
  const epoch = uuidv4();
  const startedAt = Date.now();
  const sessions = new MemorySessionStore();
  let draining = false;
  const heartbeat = new Heartbeat(config.HEARTBEAT_INTERVAL_MS, config.HEARTBEAT_TIMEOUT_MS);
  // The metrics read the state lazily (at scrape time), after it exists.
  let state: StateManager;
  // Ready while listening and not draining (cluster mode adds Redis reachability, §10).
  const notReady = () => (draining || state.closing ? ['draining'] : []);
  const view = brokerView(() => state, sessions, () => notReady().length === 0);
  const metrics = new BrokerMetrics(view, { perFrame: config.METRICS === 'on' });
  state = new StateManager({ cfg: config, log, metrics, heartbeat, epoch }, sessions);
  const router = new Router(state, config, metrics, heartbeat, log);
  // OpenTelemetry export only when OTEL_EXPORTER_OTLP_ENDPOINT is set (else a no-op, nothing loaded).
  router.tracer = opts.tracer ?? (await createHopTracer({ service: 'agent-bridge-broker' }));
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
        agents: state.agents.connectionCount,
        clients: state.connectedClients,
        sessions: sessions.size,
      }),
      notReady,
      ops: () => ops?.node(),
      onRequest: (path, method, status, seconds) => metrics.request(path, method, status, seconds),
      setIdentity: (clientId, address) => state.setIdentity(clientId, address),
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
    if (state.closing) return rejectUpgrade(socket, 503, 'internal', 'shutting down');
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
    if (target.kind === 'agent' && state.agentsFull) return overCapacity(socket, 'agents', 'too many agent connections; retry later');
    if (target.kind === 'client') {
      const refusal = state.clientRefusal(target);
      if (refusal) return overCapacity(socket, refusal, refusal === 'sessions' ? 'too many sessions; retry later' : 'too many sessions from this address; retry later');
    }
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      ws.on('error', (err) => log.debug({ err: err.message }, 'socket error'));
      if (state.closing) return ws.close(CloseCode.goingAway, 'server shutting down');
      // Checked again: the handshake may complete after other upgrades took the last places.
      const full = target.kind === 'agent' ? state.agentsFull : state.clientRefusal(target) !== undefined;
      if (full) return ws.close(CloseCode.slowConsumer, 'over capacity: retry later');
      if (target.kind === 'agent') {
        const conn = state.attachAgent(ws, target.name);
        ws.on('message', (data, isBinary) => router.onAgentFrame(conn, data, isBinary));
      } else {
        const conn = state.attachClient(ws, target);
        ws.on('message', (data, isBinary) => router.onClientFrame(conn, data, isBinary));
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.broker.port, config.broker.host, () => {
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
      state.shutdown();
      heartbeat.stop();
      ops?.history.stop();
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
      // Our own tracer only: one passed in belongs to the caller.
      if (!opts.tracer) await router.tracer.shutdown();
      log.info('broker closed');
    })());

  const drain = () => {
    draining = true;
  };
  return { url: `http://${host}:${port}`, wsUrl: `ws://${host}:${port}`, port, epoch, drain, close };
}
