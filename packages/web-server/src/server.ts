/**
 * startWebServer: the HTTP server (Express app) plus browser WebSockets on its `upgrade` event,
 * each piped to the broker by a ClientPipe. close() ends everything it started: sockets, pipes,
 * timers, stores.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { CloseCode, createLogger, LISTEN_BACKLOG, urlHost, type BackoffOptions, type Config, type Logger } from '@agent-bridge/common';
import { createHopTracer, type HopTracer } from '@agent-bridge/common/otel';
import { createApp } from './app.ts';
import { createWebMetrics } from './http/metrics.ts';
import { defaultNodeId, WebOps } from './ops/ops-endpoint.ts';
import { WebReadiness } from './ops/readiness.ts';
import { createHttpRateLimit } from './http/rate-limit.ts';
import { baseSecurityHeaders } from './http/security-headers.ts';
import { clientAddress, compileTrust, parseTrustProxy } from './http/trust-proxy.ts';
import { ByteBudget } from './limits/byte-budget.ts';
import { IpCounter } from './limits/ip-counter.ts';
import { KeyedRateLimit } from './limits/keyed-rate-limit.ts';
import { SessionTokens } from './session/tokens.ts';
import { ClientPipe } from './upstream/client-pipe.ts';
import { BrokerPool } from './upstream/broker-pool.ts';
import { RedialWake } from './upstream/redial-wake.ts';
import { connectWebRedis, type WebRedis } from './cluster/redis.ts';
import { RedisNonceStore } from './siwe/nonce-store-redis.ts';
import { RedisHitCounter } from './http/rate-limit-store-redis.ts';
import { HTTP_RATE_WINDOW_MS } from './http/rate-limit.ts';
import { RedisRevocations } from './session/revocations-redis.ts';
import { BrokerIdentityClient } from './upstream/identity-client.ts';
import { LivePipeIdentity } from './upstream/live-identity.ts';
import { OriginPolicy } from './ws/origin.ts';
import { describeUpgrade, refuseUpgrade, UpgradeGate } from './ws/upgrade.ts';

export interface WebServerOptions {
  logger?: Logger;
  /** Redial schedule of the upstreams (tests shorten it); default 1 s → 60 s ±20 %. */
  backoff?: BackoffOptions;
  /** How long an upstream must stay up before the schedule starts again (BACKOFF_RESET_AFTER_MS). */
  backoffResetAfterMs?: number;
  /** How often every broker's /readyz is probed in the background (default 1000 ms; 0: on demand only). */
  brokerPollMs?: number;
  /**
   * OpenTelemetry hop spans (tests: an in-memory exporter). Default: `createHopTracer`, which
   * exports over OTLP only when OTEL_EXPORTER_OTLP_ENDPOINT is set and is a no-op otherwise.
   */
  tracer?: HopTracer;
}

export interface WebServer {
  url: string;
  port: number;
  /** SIGTERM, before close(): /readyz answers 503 from now on (PROTOCOL §11). */
  drain(): void;
  close(): Promise<void>;
}

/** How long close() waits for browsers to answer their 1001 before cutting them. */
const CLOSE_GRACE_MS = 1000;
/** Background probe of every broker's /readyz. */
const BROKER_POLL_MS = 1000;
/** How often Node checks header/request timeouts (its default, 30 s, would let slowloris hold 60–70 s). */
const TIMEOUT_CHECK_MAX_MS = 1000;

export async function startWebServer(config: Config, opts: WebServerOptions = {}): Promise<WebServer> {
  const logger = opts.logger ?? createLogger('web-server', { level: config.LOG_LEVEL });
  const log = logger.child({ module: 'server' });
  // A malformed TRUST_PROXY list throws here: the service does not start.
  const trustProxy = parseTrustProxy(config.TRUST_PROXY);
  const trust = compileTrust(trustProxy);
  // Cluster mode: nonces, the HTTP rate limit and sign-outs are shared through Redis (PROTOCOL §10).
  // Redis away at start is no reason to exit: the link keeps retrying and /readyz says `redis`.
  // The metrics are made below; the Redis hooks count into them once they exist.
  let counted: { redisErrors: { inc(): void }; redisReconnects: { inc(): void } } | undefined;
  const redis: WebRedis | undefined = config.REDIS_URL
    ? await connectWebRedis(config.REDIS_URL, config.CLUSTER_PREFIX, logger, {
        onError: () => counted?.redisErrors.inc(),
        onReconnect: () => counted?.redisReconnects.inc(),
      })
    : undefined;
  const revocations = redis ? new RedisRevocations({ redis, ttlS: config.SESSION_TOKEN_TTL_S, log: logger.child({ module: 'revocations' }) }) : undefined;
  await revocations?.start();
  const tokens = new SessionTokens({ secret: config.JWT_SECRET, ttlS: config.SESSION_TOKEN_TTL_S, revocations });
  const pipes = new Set<ClientPipe>();
  /** The newest pipe per clientId: during an outage the web server enforces one socket per clientId. */
  const newest = new Map<string, ClientPipe>();
  // Upstreams waiting to redial a broker are woken once it is known to be back (docs/protocol.md, Redial).
  const redialWake = new RedialWake({
    onRound: (r) => log.info({ broker: hostOf(r.broker), woken: r.woken, spreadMs: r.spreadMs }, 'broker back: waking the upstreams waiting for it'),
  });
  const brokers = new BrokerPool({
    urls: config.BROKER_URLS.length > 0 ? config.BROKER_URLS : [config.BROKER_URL],
    timeoutMs: Math.min(2000, config.HEARTBEAT_TIMEOUT_MS),
    pollMs: opts.brokerPollMs ?? BROKER_POLL_MS,
    onReady: (url, startedAt) => redialWake.back(url, startedAt),
  });
  /**
   * Cluster mode (several brokers or a shared store): a browser upgrade while no broker is ready
   * is refused 503 `unavailable`, so a load balancer or the browser tries elsewhere. One broker
   * without Redis keeps the v1 outage path: the socket is accepted and held until the broker is back.
   */
  const clusterMode = brokers.size > 1 || config.REDIS_URL !== undefined;
  /** Why a browser upgrade would be refused 503 `unavailable` now (cluster mode only); undefined: it would not. */
  const unavailable = (): string | undefined => {
    if (!clusterMode) return undefined;
    if (!brokers.anyReady) return 'no broker is ready';
    if (redis && !redis.link.up) return 'the shared store (redis) is unreachable';
    return undefined;
  };
  // Where an identity update goes: the broker this client's pipe is on (it holds the session
  // when brokers do not share state), then the ready brokers of its ranking.
  const identityTargets = (clientId: string): string[] => {
    const on = newest.get(clientId)?.broker;
    const ranked = brokers.ranking(clientId);
    const ready = ranked.filter((u) => brokers.isReady(u));
    return [...(on ? [on] : []), ...ready, ...ranked];
  };
  const identity = new LivePipeIdentity(
    new BrokerIdentityClient({ brokersFor: identityTargets, proxyToken: config.PROXY_TOKEN, logger }),
    pipes,
  );
  const readiness = new WebReadiness({ brokers, redisUp: redis ? () => redis.link.up : undefined });
  const metrics = createWebMetrics({ perFrame: config.METRICS === 'on', ready: async () => (await readiness.check()).ready });
  counted = metrics;
  const rateLimit = createHttpRateLimit(
    config.RATE_LIMIT_HTTP_PER_MIN,
    redis ? new RedisHitCounter({ redis, windowMs: HTTP_RATE_WINDOW_MS }) : undefined,
  );
  const nonces = redis ? new RedisNonceStore({ redis, maxPerOwner: config.SIWE_NONCES_PER_IP }) : undefined;
  const tracer = opts.tracer ?? (await createHopTracer({ service: 'agent-bridge-web' }));
  const upstreams = new Set<WebSocket>();
  const outageBudget = new ByteBudget(config.OUTAGE_HOLD_BYTES);
  const perClient = new KeyedRateLimit({ perMinute: config.WS_UPGRADES_PER_MIN_PER_CLIENT });
  const perIp = new KeyedRateLimit({ perMinute: config.WS_UPGRADES_PER_MIN_PER_IP });
  /** TCP connections per peer address (trusted proxies exempt) and browser sockets per client IP. */
  const tcpPerIp = new IpCounter(config.CONNECTIONS_PER_IP);
  const socketsPerIp = new IpCounter(config.CONNECTIONS_PER_IP);
  const closeLimits = () => {
    brokers.close();
    rateLimit.close();
    perClient.close();
    perIp.close();
    tokens.close();
    nonces?.close();
    void redis?.link.close();
  };

  const headersTimeout = Math.min(config.HTTP_HEADERS_TIMEOUT_MS, config.HTTP_REQUEST_TIMEOUT_MS);
  const server = http.createServer({
    // Slowloris: headers (and so every WebSocket handshake, which is decided as soon as its
    // headers are in) must arrive within HTTP_HEADERS_TIMEOUT_MS, the whole request within
    // HTTP_REQUEST_TIMEOUT_MS, checked often enough for the bound to mean something.
    headersTimeout,
    requestTimeout: config.HTTP_REQUEST_TIMEOUT_MS,
    connectionsCheckingInterval: Math.min(TIMEOUT_CHECK_MAX_MS, Math.max(50, Math.floor(headersTimeout / 4))),
  });
  server.maxConnections = config.MAX_CONNECTIONS;
  server.on('drop', () => metrics.connectionsRefused.inc({ reason: 'max_connections' }));
  // Browser frames over MAX_MESSAGE_BYTES close the socket with 1009 (ws does it).
  const wss = new WebSocketServer({ noServer: true, maxPayload: config.MAX_MESSAGE_BYTES, perMessageDeflate: false });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: config.web.port, host: config.web.host, backlog: LISTEN_BACKLOG }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    closeLimits();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  // The first probe round: in cluster mode upgrades are decided on it (bounded by its timeout).
  if (clusterMode) await brokers.start();
  else void brokers.start();
  const ops = new WebOps(metrics, readiness, { brokerUrls: brokers.urls, cluster: clusterMode, proxyToken: config.PROXY_TOKEN, nodeId: () => defaultNodeId(port) });
  ops.history.start();
  const host = urlHost(config.web.host);
  const url = `http://${host}:${port}`;

  // With port 0 and no PUBLIC_ORIGIN, the derived origin names port 0: use the real one, or
  // browsers (Origin check, CSP connect-src, SIWE domain) would be refused.
  const effective: Config =
    config.PUBLIC_ORIGIN === `http://${host}:0` ? { ...config, PUBLIC_ORIGIN: url, web: { ...config.web, port } } : config;
  const origins = new OriginPolicy(effective.PUBLIC_ORIGIN, effective.ALLOWED_ORIGINS, { development: config.NODE_ENV === 'development' });
  const gate = new UpgradeGate({ tokens, origins, perClient, perIp, sockets: socketsPerIp });
  const rawHeaders = baseSecurityHeaders(effective.PUBLIC_ORIGIN);
  const built = createApp({
    config: effective,
    logger,
    tokens,
    identity,
    nonces,
    rateLimit,
    metrics,
    health: () => ({ nodeId: config.NODE_ID, clients: pipes.size }),
    readiness,
    ops,
    trustProxy,
    origins,
    gate,
    unavailable,
  });
  server.on('request', built.app);

  // One address cannot hold every descriptor (21,000 idle connections did): beyond
  // CONNECTIONS_PER_IP it is answered 503 at once. A trusted proxy carries many clients: exempt.
  server.on('connection', (socket) => {
    const peer = socket.remoteAddress ?? '';
    if (trust(peer, 0)) return;
    if (!tcpPerIp.acquire(peer)) {
      metrics.connectionsRefused.inc({ reason: 'per_ip' });
      socket.on('error', () => undefined);
      return refuseUpgrade(socket, 503, 'over_capacity', 'too many open connections from this address', rawHeaders);
    }
    socket.once('close', () => tcpPerIp.release(peer));
  });

  let closing = false;
  server.on('upgrade', (req, socket, head) => {
    // A client that resets mid-handshake must not become an uncaught error.
    socket.on('error', () => undefined);
    try {
      if (closing) return refuseUpgrade(socket, 503, 'broker_unavailable', 'the server is shutting down', rawHeaders);
      const ip = clientAddress(req, trust);
      const decision = gate.decide(req, ip);
      const why = decision.ok ? unavailable() : undefined;
      if (why !== undefined) {
        metrics.upgradesRejected.inc({ kind: 'client', status: '503' });
        log.info({ ...describeUpgrade(req), ip }, `browser upgrade refused: ${why}`);
        return refuseUpgrade(socket, 503, 'unavailable', `${why}; try again shortly`, rawHeaders);
      }
      if (!decision.ok || !socketsPerIp.acquire(ip)) {
        const refusal = decision.ok ? { status: 503, code: 'over_capacity' as const, message: 'too many open connections from this address' } : decision;
        metrics.upgradesRejected.inc({ kind: 'client', status: String(refusal.status) });
        log.info({ ...describeUpgrade(req), ip, status: refusal.status, code: refusal.code }, 'browser upgrade refused');
        return refuseUpgrade(socket, refusal.status, refusal.code, refusal.message, rawHeaders);
      }
      const { accepted } = decision;
      let released = false;
      const releaseIp = () => {
        if (!released) socketsPerIp.release(ip);
        released = true;
      };
      socket.once('close', releaseIp);
      wss.handleUpgrade(req, socket, head, (browser: WebSocket) => {
        if (closing) return browser.close(CloseCode.goingAway, 'server shutting down');
        // The broker replaces an older socket of this clientId (4500) once the new upstream is
        // up; while the older one has no live upstream (an outage) nobody would, and one token
        // could hold any number of sockets, each with its held frames: replace it here.
        const older = newest.get(accepted.clientId);
        if (older && !older.upstreamReady) older.replace();
        const pipe: ClientPipe = new ClientPipe({
          browser,
          clientId: accepted.clientId,
          address: accepted.address,
          resume: accepted.resume,
          acceptedInline: accepted.acceptedInline,
          clientIp: ip,
          outageBudget,
          config,
          logger,
          metrics,
          backoff: opts.backoff,
          backoffResetAfterMs: opts.backoffResetAfterMs,
          trace: config.TRACE === 'on',
          perFrameMetrics: config.METRICS === 'on',
          tracer,
          events: ops,
          brokers,
          redialWake,
          upstreams,
          onClosed: (p) => {
            pipes.delete(p);
            if (newest.get(p.clientId) === p) newest.delete(p.clientId);
            releaseIp();
          },
        });
        pipes.add(pipe);
        newest.set(accepted.clientId, pipe);
      });
    } catch (err) {
      log.error({ err }, 'upgrade failed');
      refuseUpgrade(socket, 500, 'internal', 'internal error', rawHeaders);
    }
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      closing = true;
      readiness.drain();
      ops.history.stop();
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      for (const pipe of pipes) pipe.shutdown();
      const deadline = Date.now() + CLOSE_GRACE_MS;
      while ((pipes.size > 0 || upstreams.size > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      for (const pipe of [...pipes]) pipe.terminate();
      for (const up of upstreams) up.terminate();
      wss.close();
      server.closeAllConnections();
      await serverClosed;
      closeLimits();
      built.close();
      // Our own tracer only: one passed in belongs to the caller.
      if (!opts.tracer) await tracer.shutdown();
      log.info('closed');
    })();
    return closed;
  };
  return { url, port, drain: () => readiness.drain(), close };
}

/** host:port of a broker URL for logs (never its path, query or credentials). */
function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '?';
  }
}
