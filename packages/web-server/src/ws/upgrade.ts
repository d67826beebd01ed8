/**
 * Browser WebSocket upgrades on GET /ws/:clientId?token=…[&lastSeq&epoch]. Everything is checked
 * before the upgrade, so a refused request gets a plain HTTP answer with our JSON error body and
 * never becomes a socket: Origin (403), session token for that clientId (401), resume query (400).
 */
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { httpError, redactUrl, type HttpErrorCode } from '@agent-bridge/common';
import type { SessionTokens } from '../session/tokens.ts';
import type { OriginPolicy } from './origin.ts';

export interface AcceptedUpgrade {
  clientId: string;
  address: string | null;
  resume: { lastSeq?: number; epoch?: string };
}

export type UpgradeDecision = { ok: true; accepted: AcceptedUpgrade } | { ok: false; status: number; code: HttpErrorCode; message: string };

const WS_PATH = /^\/ws\/([^/]+)$/;
const MAX_EPOCH_CHARS = 128;

export function decideUpgrade(req: IncomingMessage, tokens: SessionTokens, origins: OriginPolicy): UpgradeDecision {
  const refuse = (status: number, code: HttpErrorCode, message: string): UpgradeDecision => ({ ok: false, status, code, message });
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

  // Origin first: a cross-site page learns nothing, not even whether a token is valid.
  if (!origins.allows(req.headers.origin)) return refuse(403, 'forbidden', 'this Origin may not open the bridge');

  const token = url.searchParams.get('token');
  if (!token) return refuse(401, 'unauthorized', 'the token query parameter is required');
  const session = tokens.verify(token);
  if (!session.ok) return refuse(401, 'unauthorized', session.message);
  if (session.clientId !== clientId) return refuse(401, 'unauthorized', 'the token belongs to another client');

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
  return { ok: true, accepted: { clientId, address: session.address, resume } };
}

/** Answer a refused upgrade on the raw socket and close it. */
export function refuseUpgrade(socket: Duplex, status: number, code: HttpErrorCode, message: string): void {
  const body = JSON.stringify(httpError(code, message));
  const head = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Cache-Control: no-store',
    'Connection: close',
  ];
  if (status === 401) head.push('WWW-Authenticate: Bearer');
  if (socket.writable) socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
  else socket.destroy();
}

export function describeUpgrade(req: IncomingMessage): { url: string; origin?: string } {
  return { url: redactUrl(req.url), origin: req.headers.origin };
}
