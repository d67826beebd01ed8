/**
 * Plain HTTP endpoints of the broker: /healthz, /metrics, and the web server's identity hop
 * (POST /internal/clients/:clientId/identity, PROXY_TOKEN). Every error is the usual JSON body.
 *
 * /metrics is not public (issue 9: it tells anyone how many sessions, agents and errors there
 * are): with METRICS_TOKEN set it needs `Authorization: Bearer <METRICS_TOKEN>` (else 401
 * `unauthorized`); without it only loopback callers get it and everyone else a 404 `not_found`,
 * as if there were no such endpoint.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ADDRESS_RE, BrokerPath, OPS_BROKER_PATH, type OpsNode, bearerToken, clientId as clientIdSchema, httpError, tokenMatches, type Config, type HttpErrorCode } from '@agent-bridge/common';
import type { Registry } from 'prom-client';
import { clientIdFromPath } from './upgrade-auth.ts';

export interface HttpDeps {
  cfg: Config;
  registry: Registry;
  health(): Record<string, unknown>;
  /** PROTOCOL §11 /readyz: why the broker cannot take new work (empty: ready). */
  notReady(): string[];
  /** GET /internal/ops (PROXY_TOKEN): this broker's node of the ops view. */
  ops(): OpsNode | undefined;
  /** Each finished request (metrics: route group, method, status, seconds). */
  onRequest?(path: string, method: string, status: number, seconds: number): void;
  /** false: no such session. */
  setIdentity(clientId: string, address: string | null): boolean | Promise<boolean>;
}

const IDENTITY_RE = /^\/internal\/clients\/([^/]+)\/identity$/;
const MAX_BODY = 4096;

export function createHttpHandler(deps: HttpDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    if (deps.onRequest) {
      const start = performance.now();
      res.once('finish', () => deps.onRequest?.((req.url ?? '/').split('?')[0]!, req.method ?? 'GET', res.statusCode, (performance.now() - start) / 1000));
    }
    handle(deps, req, res).catch(() => {
      if (!res.headersSent) sendError(res, 500, 'internal', 'internal error');
      else res.destroy();
    });
  };
}

async function handle(deps: HttpDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let path: string;
  try {
    path = new URL(req.url ?? '/', 'http://broker.invalid').pathname;
  } catch {
    return sendError(res, 400, 'bad_request', 'malformed request target');
  }
  const method = req.method ?? 'GET';
  const isRead = method === 'GET' || method === 'HEAD';

  if (path === BrokerPath.healthz) {
    if (!isRead) return methodNotAllowed(res, 'GET');
    return sendJson(res, 200, deps.health());
  }
  if (path === BrokerPath.readyz) {
    if (!isRead) return methodNotAllowed(res, 'GET');
    const reasons = deps.notReady();
    return reasons.length === 0 ? sendJson(res, 200, { status: 'ready' }) : sendJson(res, 503, { status: 'unavailable', reasons });
  }
  if (path === OPS_BROKER_PATH) {
    if (!tokenMatches(bearerToken(req.headers.authorization), [deps.cfg.PROXY_TOKEN])) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      return sendError(res, 401, 'unauthorized', 'only the web server may read this');
    }
    if (!isRead) return methodNotAllowed(res, 'GET');
    const node = deps.ops();
    return node ? sendJson(res, 200, node) : sendError(res, 503, 'internal', 'not started');
  }
  if (path === BrokerPath.metrics) {
    const token = deps.cfg.METRICS_TOKEN;
    if (token === undefined) {
      if (!isLoopback(req.socket.remoteAddress)) return sendError(res, 404, 'not_found', 'no such endpoint');
    } else if (!tokenMatches(bearerToken(req.headers.authorization), [token])) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      return sendError(res, 401, 'unauthorized', 'a valid metrics token is required');
    }
    if (!isRead) return methodNotAllowed(res, 'GET');
    const text = await deps.registry.metrics();
    res.writeHead(200, { 'Content-Type': deps.registry.contentType, 'Cache-Control': 'no-store' });
    res.end(text);
    return;
  }
  if (path === BrokerPath.agent || clientIdFromPath(path) !== undefined) {
    res.setHeader('Upgrade', 'websocket');
    return sendError(res, 426, 'upgrade_required', 'this path only accepts WebSocket upgrades');
  }
  const m = IDENTITY_RE.exec(path);
  if (m) {
    if (method !== 'POST') return methodNotAllowed(res, 'POST');
    return identity(deps, req, res, m[1]!);
  }
  sendError(res, 404, 'not_found', 'no such endpoint');
}

async function identity(deps: HttpDeps, req: IncomingMessage, res: ServerResponse, rawId: string): Promise<void> {
  if (!tokenMatches(bearerToken(req.headers.authorization), [deps.cfg.PROXY_TOKEN])) {
    req.resume();
    return sendError(res, 401, 'unauthorized', 'only the web server may set identities');
  }
  let clientId: string;
  try {
    clientId = decodeURIComponent(rawId);
  } catch {
    req.resume();
    return sendError(res, 400, 'bad_request', 'clientId is not valid percent-encoding');
  }
  const body = await readBody(req);
  if (body === undefined) return sendError(res, 413, 'payload_too_large', `body over ${MAX_BODY} bytes`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return sendError(res, 400, 'bad_request', 'body must be JSON {"address":"0x…"|null}');
  }
  const address = (parsed as { address?: unknown } | null)?.address;
  if (!clientIdSchema.safeParse(clientId).success || !(address === null || (typeof address === 'string' && ADDRESS_RE.test(address)))) {
    return sendError(res, 400, 'bad_request', 'body must be JSON {"address":"0x…"|null}');
  }
  if (!(await deps.setIdentity(clientId, address))) return sendError(res, 404, 'unknown_client', 'no live or resumable session has that clientId');
  res.writeHead(204).end();
}

/** The body as text, or undefined when it is over MAX_BODY (the rest is discarded). */
function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) tooBig = true;
      else chunks.push(c);
    });
    req.on('end', () => resolve(tooBig ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** 127.0.0.0/8, ::1 and their IPv4-mapped forms. */
export function isLoopback(addr: string | undefined): boolean {
  if (!addr) return false;
  const v4 = addr.startsWith('::ffff:') ? addr.slice(7) : addr;
  return /^127\.\d+\.\d+\.\d+$/.test(v4) || addr === '::1';
}

function methodNotAllowed(res: ServerResponse, allow: string): void {
  res.setHeader('Allow', allow);
  sendError(res, 405, 'method_not_allowed', `use ${allow}`);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, code: HttpErrorCode, message: string): void {
  sendJson(res, status, httpError(code, message));
}
