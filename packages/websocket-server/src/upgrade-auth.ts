/**
 * Decides an upgrade request before any WebSocket handshake happens: which endpoint, whether the
 * bearer token is right (constant-time), and the parameters. A refusal is a plain HTTP response
 * with the usual JSON error body, so a refused peer never gets a socket.
 */
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import {
  ACCEPTED_INLINE,
  ACCEPTED_QUERY,
  ADDRESS_RE,
  AGENT_ACKS_ON,
  AGENT_ACKS_QUERY,
  BrokerPath,
  DEFAULT_AGENT,
  Header,
  agentName,
  bearerToken,
  clientId as clientIdSchema,
  tokenMatches,
  type Config,
  type HttpErrorCode,
} from '@agent-bridge/common';

export type UpgradeTarget =
  | {
      kind: 'agent';
      name: string;
      /** §8 opt-in: X-Agent-Acks: 1 or ?acks=1. */
      acks: boolean;
      /** §8 extension: X-Agent-Accepted: inline or ?accepted=inline, answers ride on the next frame. */
      acceptedInline: boolean;
    }
  | {
      kind: 'client';
      clientId: string;
      lastSeq: number | undefined;
      epoch: string | undefined;
      address: string | null;
      /** The browser's IP from X-Client-Ip (web server only), normalised; undefined when absent. */
      ip: string | undefined;
      /** §8 extension: `?accepted=inline`, the socket's `accepted`s ride on its next frame. */
      acceptedInline: boolean;
    };

export type UpgradeDecision = { ok: true; target: UpgradeTarget } | { ok: false; status: number; code: HttpErrorCode; message: string };

const refuse = (status: number, code: HttpErrorCode, message: string): UpgradeDecision => ({ ok: false, status, code, message });

export function authorizeUpgrade(req: IncomingMessage, cfg: Config): UpgradeDecision {
  const url = new URL(req.url ?? '/', 'http://broker.invalid');
  const token = bearerToken(headerValue(req, 'authorization'));
  if (url.pathname === BrokerPath.agent) {
    if (!tokenMatches(token, cfg.AGENT_TOKEN)) return refuse(401, 'unauthorized', 'a valid agent token is required');
    const name = headerValue(req, Header.agentName) ?? url.searchParams.get('name') ?? DEFAULT_AGENT;
    const parsed = agentName.safeParse(name);
    if (!parsed.success) return refuse(400, 'bad_request', 'agent name: 1-64 of A-Z a-z 0-9 . _ -');
    const acks = (headerValue(req, Header.agentAcks) ?? url.searchParams.get(AGENT_ACKS_QUERY)) === AGENT_ACKS_ON;
    const acceptedInline = (headerValue(req, Header.agentAccepted) ?? url.searchParams.get(ACCEPTED_QUERY)) === ACCEPTED_INLINE;
    return { ok: true, target: { kind: 'agent', name: parsed.data, acks, acceptedInline } };
  }
  const clientPath = clientIdFromPath(url.pathname);
  if (clientPath !== undefined) {
    if (!tokenMatches(token, [cfg.PROXY_TOKEN])) return refuse(401, 'unauthorized', 'only the web server may open client sockets');
    const id = clientIdSchema.safeParse(clientPath);
    if (!id.success) return refuse(400, 'bad_request', 'clientId must be 1-128 characters');
    const address = headerValue(req, Header.clientAddress) ?? null;
    if (address !== null && !ADDRESS_RE.test(address)) return refuse(400, 'bad_request', 'X-Client-Address must be 0x and 40 hex digits');
    const rawIp = headerValue(req, Header.clientIp);
    const ip = rawIp === undefined ? undefined : normaliseIp(rawIp);
    if (ip === null) return refuse(400, 'bad_request', 'X-Client-Ip must be an IPv4 or IPv6 address');
    return {
      ok: true,
      target: {
        kind: 'client',
        clientId: id.data,
        lastSeq: parseLastSeq(url.searchParams.get('lastSeq')),
        epoch: parseEpoch(url.searchParams.get('epoch')),
        address,
        ip,
        acceptedInline: url.searchParams.get(ACCEPTED_QUERY) === ACCEPTED_INLINE,
      },
    };
  }
  return refuse(404, 'not_found', 'no such endpoint');
}

/** `/ws/client/<id>` → the decoded id ('' when empty); undefined for any other path. */
export function clientIdFromPath(pathname: string): string | undefined {
  if (!pathname.startsWith(BrokerPath.client)) return undefined;
  const rest = pathname.slice(BrokerPath.client.length);
  if (rest.includes('/')) return undefined;
  try {
    return decodeURIComponent(rest);
  } catch {
    return '';
  }
}

/** A malformed lastSeq is treated as absent (no resume). */
function parseLastSeq(v: string | null): number | undefined {
  if (v === null || !/^\d{1,16}$/.test(v)) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : undefined;
}

function parseEpoch(v: string | null): string | undefined {
  return v !== null && v.length > 0 && v.length <= 128 ? v : undefined;
}

/**
 * One spelling per address, so one browser is counted once per IP: an IPv4-mapped IPv6 address
 * (::ffff:1.2.3.4) is its IPv4 address, IPv6 is lower case. null: not an IP address.
 */
export function normaliseIp(v: string): string | null {
  const t = v.trim();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(t);
  if (mapped && isIP(mapped[1]!) === 4) return mapped[1]!;
  const kind = isIP(t);
  if (kind === 4) return t;
  if (kind === 6) return t.toLowerCase();
  return null;
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Refused upgrades are answered by common's one raw-HTTP refusal. */
export { refuseUpgrade as rejectUpgrade } from '@agent-bridge/common';
