/**
 * Session tokens (PROTOCOL §6): HS256 JWTs with `sub` = clientId and, once a wallet is proven,
 * `addr` = the EIP-55 address. The algorithm is pinned on verify so `alg: none` or an RS/HS
 * confusion can never pass; `exp`, `iat`, `iss`, `aud` and `sub` are required and checked.
 */
import { createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { MemoryRevocations } from './revocations-memory.ts';
import type { RevocationStore } from './revocations.ts';

export interface SessionTokensOptions {
  secret: string;
  /** Lifetime of a token in seconds (SESSION_TOKEN_TTL_S). */
  ttlS: number;
  issuer?: string;
  audience?: string;
  /** Sign-out records kept at most (see revocations.ts). */
  maxRevocations?: number;
  /** Where sign-outs are recorded; default one process's own (MemoryRevocations). Closed by close(). */
  revocations?: RevocationStore;
}

export type VerifiedSession = { ok: true; clientId: string; address: string | null; exp: number };
export type RejectedSession = { ok: false; code: 'unauthorized'; message: string };

/** Forgives small clock differences between web servers behind one origin. */
const CLOCK_TOLERANCE_S = 5;
const ALGORITHM = 'HS256';

export class SessionTokens {
  /**
   * The secret as a KeyObject, made once. Given a string, jsonwebtoken first tries to parse it as
   * a PEM key (createPrivateKey on sign, createPublicKey on verify, an OpenSSL decoder pass each)
   * before falling back to createSecretKey: ~600 µs of CPU per sign + verify instead of ~30 µs.
   * A secret KeyObject is exactly what that fallback builds, and HS256 insists on type 'secret'.
   */
  private readonly secret: KeyObject;
  private readonly ttlS: number;
  private readonly issuer: string;
  private readonly audience: string;
  private readonly revocations: RevocationStore;

  constructor(opts: SessionTokensOptions) {
    this.secret = createSecretKey(Buffer.from(opts.secret));
    this.ttlS = opts.ttlS;
    this.issuer = opts.issuer ?? 'agent-bridge';
    this.audience = opts.audience ?? 'agent-bridge-session';
    this.revocations = opts.revocations ?? new MemoryRevocations({ ttlS: opts.ttlS, maxEntries: opts.maxRevocations });
  }

  /**
   * Sign-out: every token of `clientId` issued so far stops working (socket, /api/me, sign-in
   * upgrade), whatever wallet it carries. false: the revocation store is full. Throws
   * StoreUnavailable when the cluster's store cannot be reached.
   */
  revoke(clientId: string): Promise<boolean> {
    return this.revocations.revoke(clientId);
  }

  close(): void {
    this.revocations.close();
  }

  sign(claims: { clientId: string; address?: string | null }): { token: string; expiresAt: string } {
    // After a sign-out, a new token of that client must be newer than the revocation (one-second
    // iat): at most a second in the future, well inside the verifier's clock tolerance.
    const iat = Math.max(Math.floor(Date.now() / 1000), this.revocations.minIat(claims.clientId) ?? 0);
    const exp = iat + this.ttlS;
    const payload: Record<string, unknown> = { iat, exp };
    if (claims.address) payload.addr = claims.address;
    const token = jwt.sign(payload, this.secret, {
      algorithm: ALGORITHM,
      issuer: this.issuer,
      audience: this.audience,
      subject: claims.clientId,
    });
    return { token, expiresAt: new Date(exp * 1000).toISOString() };
  }

  verify(token: string): VerifiedSession | RejectedSession {
    let claims: jwt.JwtPayload | string;
    try {
      claims = jwt.verify(token, this.secret, {
        algorithms: [ALGORITHM],
        issuer: this.issuer,
        audience: this.audience,
        clockTolerance: CLOCK_TOLERANCE_S,
      });
    } catch (err) {
      const expired = err instanceof jwt.TokenExpiredError;
      return reject(expired ? 'the session token has expired' : 'the session token is not valid');
    }
    if (typeof claims === 'string') return reject('the session token is not valid');
    // jsonwebtoken accepts tokens without exp/iat/sub; ours always carry them, so insist.
    const { sub, exp, iat, addr } = claims;
    if (typeof sub !== 'string' || sub === '' || sub.length > 128) return reject('the session token has no subject');
    if (typeof exp !== 'number' || typeof iat !== 'number') return reject('the session token has no lifetime');
    if (iat > Date.now() / 1000 + CLOCK_TOLERANCE_S) return reject('the session token is issued in the future');
    if (addr !== undefined && addr !== null && typeof addr !== 'string') return reject('the session token is not valid');
    if (this.revocations.isRevoked(sub, iat)) return reject('the session token was revoked by a sign-out');
    return { ok: true, clientId: sub, address: typeof addr === 'string' ? addr : null, exp };
  }
}

function reject(message: string): RejectedSession {
  return { ok: false, code: 'unauthorized', message };
}
