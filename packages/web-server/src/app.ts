/**
 * The Express app: API, sign-in, health, metrics and the SPA. WebSocket upgrades never reach it
 * (server.ts handles them on the HTTP server's `upgrade` event); a plain GET /ws/* gets 426.
 */
import { randomUUID } from 'node:crypto';
import express, { Router, type Express } from 'express';
import compression from 'compression';
import type { Config, Logger } from '@agent-bridge/common';
import { createSiweRouter } from './siwe/router.ts';
import { errorHandler, methodNotAllowed, notFound, sendError } from './http/errors.ts';
import { securityHeaders } from './http/security-headers.ts';
import { staticSite } from './http/static.ts';
import { httpMetrics, type WebMetrics } from './http/metrics.ts';
import { opsEndpoint, type WebOps } from './ops/ops-endpoint.ts';
import type { WebReadiness } from './ops/readiness.ts';
import type { HttpRateLimit } from './http/rate-limit.ts';
import { metricsAccess } from './http/metrics-access.ts';
import { requestGuard } from './http/request-guard.ts';
import type { TrustSetting } from './http/trust-proxy.ts';
import type { OriginPolicy } from './ws/origin.ts';
import type { UpgradeGate } from './ws/upgrade.ts';
import { requireSession, type SessionLocals } from './session/require-session.ts';
import type { SessionTokens } from './session/tokens.ts';
import type { IdentityUpdater } from './siwe/deps.ts';
import type { NonceStore } from './siwe/nonce-store.ts';

export interface AppDeps {
  config: Config;
  logger: Logger;
  tokens: SessionTokens;
  identity: IdentityUpdater;
  /** The SIWE nonce store; default: the router's own in-memory one. Cluster mode: Redis. */
  nonces?: NonceStore;
  rateLimit: HttpRateLimit;
  metrics: WebMetrics;
  /** Live numbers (and the node id) for /healthz. */
  health: () => Record<string, number | string>;
  /** /readyz: not draining and the broker reachable. */
  readiness: WebReadiness;
  /** GET /api/ops (OPS_TOKEN). */
  ops: WebOps;
  /** TRUST_PROXY, parsed (http/trust-proxy.ts). */
  trustProxy: TrustSetting;
  origins: OriginPolicy;
  /** The upgrade's access checks, for POST /api/ws-check. */
  gate: UpgradeGate;
  /** Cluster mode: why an upgrade would be refused 503 `unavailable` now (undefined: it would not). */
  unavailable?: () => string | undefined;
}

export interface BuiltApp {
  app: Express;
  /** Releases what the routers hold (the SIWE nonce store's timer). */
  close(): void;
}

export function createApp(deps: AppDeps): BuiltApp {
  const { config, logger, tokens, metrics } = deps;
  const startedAt = Date.now();
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', deps.trustProxy);
  app.use(securityHeaders(config.PUBLIC_ORIGIN));
  app.use(httpMetrics(metrics));
  // Prefers br, then gzip (compression ≥ 1.8 negotiates brotli).
  app.use(compression());

  app.get('/healthz', (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json({ status: 'ok', uptimeS: Math.round((Date.now() - startedAt) / 1000), ...deps.health() });
  });
  app.get('/readyz', async (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    const { ready, reasons } = await deps.readiness.check();
    if (ready) res.json({ status: 'ready', uptimeS: Math.round((Date.now() - startedAt) / 1000) });
    else res.status(503).json({ status: 'unavailable', reasons });
  });
  app.get('/metrics', metricsAccess(config.METRICS_TOKEN), async (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Content-Type', metrics.registry.contentType);
    res.end(await metrics.registry.metrics());
  });

  const guard = requestGuard(deps.origins);
  app.use('/api', guard, apiRouter(deps), notFound('no such API endpoint'));

  const siwe = createSiweRouter({
    config,
    logger,
    tokens,
    identity: deps.identity,
    nonces: deps.nonces,
    onVerified: (outcome) => metrics.siweVerifications.inc({ outcome }),
  });
  app.use('/auth', guard, deps.rateLimit.middleware, siwe, notFound('no such sign-in endpoint'));

  app.use('/ws', (_req, res) => {
    res.setHeader('Upgrade', 'websocket');
    sendError(res, 426, 'upgrade_required', 'this path only accepts WebSocket upgrades');
  });

  app.use(staticSite(config.STATIC_ROOT));
  app.use(errorHandler(logger.child({ module: 'http' })));
  return { app, close: () => siwe.close() };
}

function apiRouter(deps: AppDeps): Router {
  const { tokens } = deps;
  const router = Router();
  router.use((_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  router.use(express.json({ limit: deps.config.MAX_MESSAGE_BYTES }));

  router.post('/clients', deps.rateLimit.middleware, (_req, res) => {
    const clientId = randomUUID();
    const { token, expiresAt } = tokens.sign({ clientId });
    res.status(201).json({ clientId, token, expiresAt });
  });
  router.all('/clients', methodNotAllowed('POST'));

  // The SPA asks after a failed WebSocket connect (a browser never sees a refused upgrade's
  // status): the answer is what an upgrade with this token and this Origin would get now.
  router.post('/ws-check', deps.rateLimit.middleware, (req, res) => {
    const body: unknown = req.body;
    const { clientId, token } = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    if (typeof clientId !== 'string' || clientId === '' || typeof token !== 'string') {
      return sendError(res, 400, 'bad_request', 'expected {"clientId":"…","token":"…"}');
    }
    const decision = deps.gate.check({ clientId, token, origin: req.get('origin'), ip: req.ip ?? '' }, false);
    if (!decision.ok) {
      if (decision.status === 401) res.setHeader('WWW-Authenticate', 'Bearer');
      return sendError(res, decision.status, decision.code, decision.message);
    }
    const why = deps.unavailable?.();
    if (why !== undefined) return sendError(res, 503, 'unavailable', `${why}; try again shortly`);
    res.json({ ok: true });
  });
  router.all('/ws-check', methodNotAllowed('POST'));

  router.get('/ops', opsEndpoint(deps.config.OPS_TOKEN, deps.ops));
  router.all('/ops', methodNotAllowed('GET'));

  router.get('/me', requireSession(tokens), (_req, res) => {
    const session = res.locals.session as SessionLocals;
    res.json({ clientId: session.clientId, address: session.address });
  });
  router.all('/me', methodNotAllowed('GET'));
  return router;
}
