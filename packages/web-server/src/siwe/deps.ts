/**
 * What the SIWE router needs from the rest of the web server, written structurally so this
 * folder depends on behaviour, not files: `SessionTokens` (src/session/tokens.ts) and
 * `LivePipeIdentity` (src/upstream/live-identity.ts) satisfy these.
 */
import type { Config, Logger } from '@agent-bridge/common';
import type { NonceStore } from './nonce-store.ts';

export interface SessionTokenIssuer {
  sign(claims: { clientId: string; address?: string | null }): { token: string; expiresAt: string | Date | number };
  verify(
    token: string,
  ): { ok: true; clientId: string; address: string | null; exp: number } | { ok: false; code: string; message: string };
  /** Sign-out: revoke every token of the client issued so far. false: no room to record it. */
  revoke?(clientId: string): boolean | Promise<boolean>;
}

/** `unknown_client`: the broker has no session for it; `unavailable`: the broker could not be told. */
export type IdentityOutcome = 'ok' | 'unknown_client' | 'unavailable';

/** Records that a session proved (or dropped) a wallet address. */
export interface IdentityUpdater {
  setAddress(clientId: string, address: string | null): Promise<IdentityOutcome>;
}

export interface SiweRouterDeps {
  config: Pick<Config, 'PUBLIC_ORIGIN' | 'SIWE_CHAIN_IDS'> & Partial<Pick<Config, 'NODE_ENV' | 'SIWE_NONCES_PER_IP'>>;
  logger: Logger;
  tokens: SessionTokenIssuer;
  identity: IdentityUpdater;
  /** Defaults to an in-memory store; the router closes only a store it created itself. */
  nonces?: NonceStore;
  /** Lifetime of a challenge (nonce and message expiry). */
  challengeTtlMs?: number;
  clockToleranceMs?: number;
  now?: () => number;
  /** Each POST /verify's outcome: `ok`, `bad_request` or the siwe_* code it was refused with (metrics). */
  onVerified?: (outcome: string) => void;
}

export function rfc3339(value: string | Date | number): string {
  if (typeof value === 'string') return value;
  // A number is a JWT-style `exp` in seconds when small enough, else milliseconds.
  if (typeof value === 'number') return new Date(value < 1e11 ? value * 1000 : value).toISOString();
  return value.toISOString();
}
