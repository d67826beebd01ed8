/**
 * Browser WebSocket upgrades on GET /ws/:clientId?token=…[&lastSeq&epoch]. Everything is checked
 * before the upgrade, so a refused request gets a plain HTTP answer with our JSON error body (and
 * the usual security headers) and never becomes a socket.
 *
 * The access checks (Origin, upgrade rate limits, token, sockets per IP) live in UpgradeGate so
 * POST /api/ws-check can answer exactly what an upgrade would get, without consuming anything.
 */
import type { IncomingMessage } from 'node:http';
import { ACCEPTED_INLINE, ACCEPTED_QUERY, redactUrl, type HttpErrorCode } from '@agent-bridge/common';
import type { SessionTokens } from '../session/tokens.ts';
import type { IpCounter } from '../limits/ip-counter.ts';
import type { KeyedRateLimit } from '../limits/keyed-rate-limit.ts';
import type { OriginPolicy } from './origin.ts';

export interface AcceptedUpgrade {
  clientId: string;
  address: string | null;
  resume: { lastSeq?: number; epoch?: string };
  /** §8 extension: the browser asked for `?accepted=inline` (passed on to the broker). */
  acceptedInline: boolean;
}

export type Refusal = { ok: false; status: number; code: HttpErrorCode; message: string };
export type UpgradeDecision = { ok: true; accepted: AcceptedUpgrade } | Refusal;
export type AccessDecision = { ok: true; clientId: string; address: string | null } | Refusal;

const WS_PATH = /^\/ws\/([^/]+)$/;
const MAX_EPOCH_CHARS = 128;

const refuse = (status: number, code: HttpErrorCode, message: string): Refusal => ({ ok: false, status, code, message });

export interface UpgradeGateDeps {
  tokens: SessionTokens;
  origins: OriginPolicy;
  perClient: KeyedRateLimit;
  perIp: KeyedRateLimit;
  /** Open browser sockets per client IP (CONNECTIONS_PER_IP). */
  sockets: IpCounter;
}

export interface AccessRequest {
  clientId: string;
  token: string | null | undefined;
  origin: string | undefined;
  ip: string;
}

export class UpgradeGate {
  constructor(private readonly deps: UpgradeGateDeps) {}

  /**
   * Who may open a socket, in the order that costs an attacker the most and us the least:
   * Origin (a foreign page learns nothing, not even whether a token is valid), the per-IP upgrade
   * rate, the token, the per-clientId upgrade rate (one token cannot reconnect in a loop, each
   * time replaying its resume buffer), then sockets per IP. `consume: false` only looks (ws-check).
   */
  check(req: AccessRequest, consume: boolean): AccessDecision {
    const { tokens, origins, perClient, perIp, sockets } = this.deps;
    if (!origins.allows(req.origin)) return refuse(403, 'forbidden', 'this Origin may not open the bridge');
    if (!(consume ? perIp.take(req.ip) : perIp.peek(req.ip))) {
      return refuse(429, 'rate_limited', 'too many WebSocket connections from this address; retry later');
    }
    if (!req.token) return refuse(401, 'unauthorized', 'the token query parameter is required');
    const session = tokens.verify(req.token);
    if (!session.ok) return refuse(401, 'unauthorized', session.message);
    if (session.clientId !== req.clientId) return refuse(401, 'unauthorized', 'the token belongs to another client');
    if (!(consume ? perClient.take(req.clientId) : perClient.peek(req.clientId))) {
      return refuse(429, 'rate_limited', 'this client reconnects too often; retry later');
    }
    if (!sockets.hasRoom(req.ip)) return refuse(503, 'over_capacity', 'too many open connections from this address');
    return { ok: true, clientId: session.clientId, address: session.address };
  }

  decide(req: IncomingMessage, ip: string): UpgradeDecision {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      return refuse(400, 'bad_request', 'the request URL is malformed');
    }
    const m = WS_PATH.exec(url.pathname);
    if (!m) return refuse(404, 'not_found', 'WebSocket endpoint is /ws/:clientId');
    let clientId: string;
    try {
      clientId = decodeURIComponent(m[1]!);
    } catch {
      return refuse(400, 'bad_request', 'the clientId is not valid percent-encoding');
    }
    if (req.method !== 'GET') return refuse(405, 'method_not_allowed', 'WebSocket upgrades use GET');

    const access = this.check({ clientId, token: url.searchParams.get('token'), origin: req.headers.origin, ip }, true);
    if (!access.ok) return access;

    const resume: AcceptedUpgrade['resume'] = {};
    const lastSeq = url.searchParams.get('lastSeq');
    if (lastSeq !== null && lastSeq !== '') {
      if (!/^\d{1,15}$/.test(lastSeq)) return refuse(400, 'bad_request', 'lastSeq must be a non-negative integer');
      resume.lastSeq = Number(lastSeq);
    }
    const epoch = url.searchParams.get('epoch');
    if (epoch !== null && epoch !== '') {
      if (epoch.length > MAX_EPOCH_CHARS) return refuse(400, 'bad_request', 'epoch is too long');
      resume.epoch = epoch;
    }
    const acceptedInline = url.searchParams.get(ACCEPTED_QUERY) === ACCEPTED_INLINE;
    return { ok: true, accepted: { clientId, address: access.address, resume, acceptedInline } };
  }
}

/** Refused upgrades (and refused connections) are answered by common's one raw-HTTP refusal, with our security headers passed in. */
export { refuseUpgrade } from '@agent-bridge/common';

/** For logs: the path only. A query may carry the token under any spelling (`%74oken=`). */
export function describeUpgrade(req: IncomingMessage): { url: string; origin?: string } {
  return { url: redactUrl(req.url), origin: req.headers.origin };
}
