/**
 * Sign-In With Ethereum (EIP-4361), mounted at /auth by app.ts (which also applies the per-IP
 * rate limit): GET /challenge, POST /verify, POST /signout. See docs/protocol.md,
 * "Sessions and identity".
 */
import { randomUUID } from 'node:crypto';
import express, { Router, type Request } from 'express';
import { getAddress } from 'ethers';
import { ADDRESS_RE, bearerToken } from '@agent-bridge/common';
import { sendError } from '../http/errors.ts';
import { StoreUnavailable } from '../cluster/unavailable.ts';
import { buildChallenge } from './challenge.ts';
import { rfc3339, type SiweRouterDeps } from './deps.ts';
import { NonceRefused } from './nonce-store.ts';
import { MemoryNonceStore } from './nonce-store-memory.ts';
import { siweOrigin, siweOrigins, type SiweOrigin } from './origin.ts';
import { SiweVerifier } from './verify.ts';

export type { SiweRouterDeps } from './deps.ts';

export const CHALLENGE_TTL_MS = 5 * 60_000;
const BODY_LIMIT = '16kb';

export type SiweRouter = Router & { close(): void };

export function createSiweRouter(deps: SiweRouterDeps): SiweRouter {
  const { config, tokens, identity } = deps;
  const log = deps.logger.child({ module: 'siwe' });
  const now = deps.now ?? Date.now;
  const ownStore = deps.nonces === undefined;
  const nonces = deps.nonces ?? new MemoryNonceStore({ now, maxPerOwner: config.SIWE_NONCES_PER_IP });
  const development = config.NODE_ENV === 'development';
  // Read per request: the web server may fill in PUBLIC_ORIGIN only once it knows its port.
  // In development the loopback spellings of a loopback PUBLIC_ORIGIN are accepted too.
  const origins = () => siweOrigins(config.PUBLIC_ORIGIN, development);
  /** The origin a challenge names: the page's own when it is one we accept, else PUBLIC_ORIGIN. */
  const originFor = (pageOrigin: string | undefined): SiweOrigin => {
    const all = origins();
    return (pageOrigin && all.find((o) => o.uri === pageOrigin)) || siweOrigin(config.PUBLIC_ORIGIN);
  };
  const chainIds = config.SIWE_CHAIN_IDS;
  const challengeTtlMs = deps.challengeTtlMs ?? CHALLENGE_TTL_MS;
  const verifier = new SiweVerifier({ origin: origins, chainIds, nonces, now, clockToleranceMs: deps.clockToleranceMs });

  const router = Router() as SiweRouter;
  router.close = () => {
    if (ownStore) nonces.close();
  };

  // Nothing here may be cached: nonces are single-use and bodies carry session tokens.
  router.use((_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });

  router.get('/challenge', async (req, res) => {
    const rawAddress = req.query.address;
    if (typeof rawAddress !== 'string' || rawAddress === '') {
      return sendError(res, 400, 'bad_request', 'query parameter address=0x… is required');
    }
    let address: string;
    try {
      // 0x + 40 hex only (ethers would also take ICAP and no-0x forms). All-lowercase or a
      // correct checksum; a wrong mixed-case checksum is refused.
      if (!ADDRESS_RE.test(rawAddress)) throw new Error('not 0x + 40 hex digits');
      address = getAddress(rawAddress);
    } catch {
      return sendError(res, 400, 'siwe_invalid_address', 'address must be 0x and 40 hex digits with a valid EIP-55 checksum');
    }
    let chainId = chainIds[0]!;
    const rawChain = req.query.chainId;
    if (rawChain !== undefined) {
      if (typeof rawChain !== 'string' || !/^[0-9]{1,15}$/.test(rawChain)) {
        return sendError(res, 400, 'bad_request', 'chainId must be a decimal integer');
      }
      chainId = Number(rawChain);
      if (!chainIds.includes(chainId)) {
        return sendError(res, 400, 'siwe_chain_not_allowed', `chain id ${chainId} is not accepted; use one of ${chainIds.join(', ')}`);
      }
    }
    const origin = originFor(req.get('origin'));
    let issued: Awaited<ReturnType<typeof nonces.issue>>;
    try {
      issued = await nonces.issue(challengeTtlMs, {
        owner: req.ip ?? '',
        // The message's window is exactly the nonce's; the text is stored with the nonce.
        message: (nonce, expiresAt) =>
          buildChallenge({ origin, address, chainId, nonce, issuedAt: new Date(expiresAt.getTime() - challengeTtlMs), expiresAt }),
      });
    } catch (err) {
      if (!(err instanceof NonceRefused)) throw err;
      log.info({ reason: err.reason }, 'challenge refused');
      res.setHeader('Retry-After', String(Math.ceil(challengeTtlMs / 1000)));
      if (err.reason === 'owner_limit') return sendError(res, 429, 'rate_limited', 'too many open sign-in challenges from this address; use one or wait for them to expire');
      return sendError(res, 503, 'over_capacity', 'too many open sign-in challenges; try again later');
    }
    res.json({ message: issued.message!, nonce: issued.nonce, expiresAt: issued.expiresAt.toISOString() });
  });

  router.post('/verify', express.json({ limit: BODY_LIMIT }), async (req, res) => {
    const body = readVerifyBody(req);
    if ('error' in body) {
      deps.onVerified?.('bad_request');
      return sendError(res, 400, 'bad_request', body.error);
    }

    // The session is checked before the message, so a bad token cannot burn a nonce either.
    if (body.clientId !== undefined) {
      const session = tokens.verify(body.token!);
      if (!session.ok || session.clientId !== body.clientId) {
        deps.onVerified?.('bad_request');
        return sendError(res, 401, 'unauthorized', 'token is not a valid session token for clientId');
      }
    }

    const result = await verifier.verify(body.message, body.signature);
    deps.onVerified?.(result.ok ? 'ok' : result.code.startsWith('siwe_') ? result.code : 'bad_request');
    if (!result.ok) {
      log.info({ code: result.code }, 'sign-in refused');
      return sendError(res, result.status, result.code, result.message);
    }

    const clientId = body.clientId ?? randomUUID();
    if (body.clientId !== undefined) {
      const outcome = await identity.setAddress(clientId, result.address);
      // 'unknown_client': no live session at the broker; the new token carries the address
      // into the next connection. 'unavailable': the upgrade would not be visible, so say so.
      if (outcome === 'unavailable') {
        log.warn({ clientId }, 'sign-in verified but the broker could not be told');
        return sendError(res, 503, 'broker_unavailable', 'signed in, but the bridge is unreachable; try again');
      }
    }
    const signed = tokens.sign({ clientId, address: result.address });
    log.info({ clientId, address: result.address, upgraded: body.clientId !== undefined }, 'signed in with ethereum');
    res.json({ token: signed.token, clientId, address: result.address, expiresAt: rfc3339(signed.expiresAt) });
  });

  router.post('/signout', async (req, res) => {
    const token = bearerToken(req.get('authorization'));
    const session = token === undefined ? undefined : tokens.verify(token);
    if (!session?.ok) return sendError(res, 401, 'unauthorized', 'Authorization: Bearer <session token> is required');
    const outcome = await identity.setAddress(session.clientId, null);
    if (outcome === 'unavailable') {
      return sendError(res, 503, 'broker_unavailable', 'the bridge is unreachable; the session is still signed in');
    }
    // Every token issued so far (the one just used, and any copy of it) loses its wallet and its
    // socket; only the token answered here works from now on.
    let recorded = true;
    try {
      recorded = tokens.revoke ? await tokens.revoke(session.clientId) : true;
    } catch (err) {
      if (!(err instanceof StoreUnavailable)) throw err;
      return sendError(res, 503, 'unavailable', 'signed out at the bridge, but old tokens could not be revoked (shared store unreachable); try again');
    }
    if (!recorded) {
      log.warn({ clientId: session.clientId }, 'sign-out could not be recorded: revocation store full');
      return sendError(res, 503, 'over_capacity', 'signed out at the bridge, but old tokens could not be revoked; try again later');
    }
    const signed = tokens.sign({ clientId: session.clientId, address: null });
    log.info({ clientId: session.clientId }, 'signed out');
    res.json({ token: signed.token, clientId: session.clientId, address: null, expiresAt: rfc3339(signed.expiresAt) });
  });

  for (const path of ['/challenge', '/verify', '/signout']) {
    router.all(path, (_req, res) => sendError(res, 405, 'method_not_allowed', `${path} does not accept this method`));
  }
  router.use((_req, res) => sendError(res, 404, 'not_found', 'no such sign-in endpoint'));
  // Errors (an unreadable or oversized body, a failure) go on to the app's one error handler.
  return router;
}

type VerifyBody = { message: string; signature: string; clientId?: string; token?: string };

function readVerifyBody(req: Request): VerifyBody | { error: string } {
  const b: unknown = req.body;
  if (typeof b !== 'object' || b === null || Array.isArray(b)) {
    return { error: 'expected a JSON object body (Content-Type: application/json)' };
  }
  const { message, signature, clientId, token } = b as Record<string, unknown>;
  if (typeof message !== 'string' || message === '') return { error: 'message (string) is required' };
  if (typeof signature !== 'string' || signature === '') return { error: 'signature (string) is required' };
  const hasClient = clientId !== undefined && clientId !== null;
  const hasToken = token !== undefined && token !== null;
  if (hasClient !== hasToken) return { error: 'clientId and token go together' };
  if (!hasClient) return { message, signature };
  if (typeof clientId !== 'string' || clientId === '' || typeof token !== 'string' || token === '') {
    return { error: 'clientId and token must be non-empty strings' };
  }
  return { message, signature, clientId, token };
}
