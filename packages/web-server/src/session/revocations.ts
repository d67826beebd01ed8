/**
 * Sign-out revocation records: clientId → the second of its sign-out. A token of that clientId
 * issued at or before it is refused until the newest such token has expired (sign-out time +
 * SESSION_TOKEN_TTL_S), after which the record goes.
 *
 * Checking a token stays synchronous (every upgrade and /api/me does it), so each web server
 * answers from records it holds: MemoryRevocations (revocations-memory.ts) in one process;
 * RedisRevocations (revocations-redis.ts) in cluster mode, which writes each sign-out to Redis,
 * tells the other web servers over pub/sub, and reloads every record whenever its subscription
 * (re)connects. Both pass test/contracts/revocations.contract.ts.
 */
export interface RevocationStore {
  /**
   * Revoke every token of `clientId` issued up to now. false: no room to record it. Throws
   * StoreUnavailable when the shared store cannot be reached (nothing was revoked).
   */
  revoke(clientId: string): Promise<boolean>;
  isRevoked(clientId: string, iatS: number): boolean;
  /**
   * The earliest `iat` a new token of `clientId` may carry so it is not caught by its own
   * sign-out (iat has one-second granularity): one second after the revocation.
   */
  minIat(clientId: string): number | undefined;
  close(): void;
}

export { MemoryRevocations, type RevocationsOptions } from './revocations-memory.ts';
