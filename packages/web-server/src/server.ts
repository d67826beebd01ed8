/**
 * startWebServer: the HTTP server (Express app) plus browser WebSockets on its `upgrade` event,
 * each piped to the broker by a ClientPipe. close() ends everything it started: sockets, pipes,
 * timers, stores.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { CloseCode, createLogger, urlHost, type BackoffOptions, type Config, type Logger } from '@agent-bridge/common';
import { createApp } from './app.ts';
import { WebMetrics } from './http/metrics.ts';
import { createHttpRateLimit } from './http/rate-limit.ts';
import { SessionTokens } from './session/tokens.ts';
import { ClientPipe } from './upstream/client-pipe.ts';
import { BrokerIdentityClient } from './upstream/identity-client.ts';
import { LivePipeIdentity } from './upstream/live-identity.ts';
import { OriginPolicy } from './ws/origin.ts';
import { decideUpgrade, describeUpgrade, refuseUpgrade } from './ws/upgrade.ts';

export interface WebServerOptions {
  logger?: Logger;
  /** Redial schedule of the upstreams (tests shorten it); default 1 s → 60 s ±20 %. */
  backoff?: BackoffOptions;
  /** How long an upstream must stay up before the schedule starts again (BACKOFF_RESET_AFTER_MS). */
  backoffResetAfterMs?: number;
}

export interface WebServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** How long close() waits for browsers to answer their 1001 before cutting them. */
const CLOSE_GRACE_MS = 1000;

export async function startWebServer(config: Config, opts: WebServerOptions = {}): Promise<WebServer> {
  const logger = opts.logger ?? createLogger('web-server', { level: config.LOG_LEVEL });
  const log = logger.child({ module: 'server' });
  const tokens = new SessionTokens({ secret: config.JWT_SECRET, ttlS: config.SESSION_TOKEN_TTL_S });
  const pipes = new Set<ClientPipe>();
  const identity = new LivePipeIdentity(
    new BrokerIdentityClient({ brokerUrl: config.BROKER_URL, proxyToken: config.PROXY_TOKEN, logger }),
    pipes,
  );
  const metrics = new WebMetrics();
  const rateLimit = createHttpRateLimit(config.RATE_LIMIT_HTTP_PER_MIN);
  const upstreams = new Set<WebSocket>();

  const server = http.createServer();
  // Browser frames over MAX_MESSAGE_BYTES close the socket with 1009 (ws does it).
  const wss = new WebSocketServer({ noServer: true, maxPayload: config.MAX_MESSAGE_BYTES, perMessageDeflate: false });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.web.port, config.web.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    rateLimit.close();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  const host = urlHost(config.web.host);
  const url = `http://${host}:${port}`;

  // With port 0 and no PUBLIC_ORIGIN, the derived origin names port 0: use the real one, or
  // browsers (Origin check, CSP connect-src, SIWE domain) would be refused.
  const effective: Config =
    config.PUBLIC_ORIGIN === `http://${host}:0` ? { ...config, PUBLIC_ORIGIN: url, web: { ...config.web, port } } : config;
  const origins = new OriginPolicy(effective.PUBLIC_ORIGIN, effective.ALLOWED_ORIGINS);
  const built = createApp({
    config: effective,
    logger,
    tokens,
    identity,
    rateLimit,
    metrics,
    health: () => ({ clients: pipes.size }),
  });
  server.on('request', built.app);

  let closing = false;
  server.on('upgrade', (req, socket, head) => {
    // A client that resets mid-handshake must not become an uncaught error.
    socket.on('error', () => undefined);
    try {
      if (closing) return refuseUpgrade(socket, 503, 'broker_unavailable', 'the server is shutting down');
      const decision = decideUpgrade(req, tokens, origins);
      if (!decision.ok) {
        metrics.upgradesRejected.inc({ status: String(decision.status) });
        log.info({ ...describeUpgrade(req), status: decision.status }, 'browser upgrade refused');
        return refuseUpgrade(socket, decision.status, decision.code, decision.message);
      }
      const { accepted } = decision;
      wss.handleUpgrade(req, socket, head, (browser: WebSocket) => {
        if (closing) return browser.close(CloseCode.goingAway, 'server shutting down');
        metrics.browserSockets.inc();
        const pipe = new ClientPipe({
          browser,
          clientId: accepted.clientId,
          address: accepted.address,
          resume: accepted.resume,
          config,
          logger,
          metrics,
          backoff: opts.backoff,
          backoffResetAfterMs: opts.backoffResetAfterMs,
          upstreams,
          onClosed: (p) => {
            pipes.delete(p);
            metrics.browserSockets.dec();
          },
        });
        pipes.add(pipe);
      });
    } catch (err) {
      log.error({ err }, 'upgrade failed');
      refuseUpgrade(socket, 500, 'internal', 'internal error');
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
      rateLimit.close();
      built.close();
      log.info('closed');
    })();
    return closed;
  };
  return { url, port, close };
}
