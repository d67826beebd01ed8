/** Builds the EIP-4361 text that /auth/challenge hands out. */
import { SiweMessage } from '@signinwithethereum/siwe';
import type { SiweOrigin } from './origin.ts';

export const SIWE_STATEMENT = 'Sign in to Sploots (Agent Bridge)';

export interface ChallengeInput {
  origin: SiweOrigin;
  /** Already EIP-55. */
  address: string;
  chainId: number;
  nonce: string;
  issuedAt: Date;
  expiresAt: Date;
}

export function buildChallenge(input: ChallengeInput): string {
  return new SiweMessage({
    scheme: input.origin.scheme,
    domain: input.origin.domain,
    address: input.address,
    statement: SIWE_STATEMENT,
    uri: input.origin.uri,
    version: '1',
    chainId: input.chainId,
    nonce: input.nonce,
    issuedAt: input.issuedAt.toISOString(),
    expirationTime: input.expiresAt.toISOString(),
  }).prepareMessage();
}
