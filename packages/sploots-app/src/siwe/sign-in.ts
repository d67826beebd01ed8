/**
 * Sign-In With Ethereum from the browser: wallet account → challenge → personal_sign → verify,
 * then hand the upgraded token to the bridge client. No React here.
 */
import { AuthApi, AuthError, type AuthSession } from './auth-api.ts';
import { currentChainId, personalSign, requestAccount, type Eip1193Provider } from './eip1193.ts';

/** The part of the browser client (`@agent-bridge/browser-client`) sign-in uses. */
export interface SiweClient {
  readonly baseUrl?: string;
  readonly session: { clientId: string; token: string } | undefined;
  setToken(token: string, opts?: { expiresAt?: string; clientId?: string }): void;
  /** A new welcome (first connect, or another session): the token may have changed. */
  on?(event: 'welcome', fn: () => void): () => void;
}

function apiFor(client: SiweClient, fetchImpl?: typeof fetch): AuthApi {
  const base = client.baseUrl ?? (globalThis as { location?: { origin: string } }).location?.origin ?? '';
  return new AuthApi(base, fetchImpl);
}

function adopt(client: SiweClient, s: AuthSession): void {
  client.setToken(s.token, { expiresAt: s.expiresAt, clientId: s.clientId });
}

export async function signIn(client: SiweClient, provider: Eip1193Provider, fetchImpl?: typeof fetch): Promise<AuthSession> {
  const api = apiFor(client, fetchImpl);
  const account = await requestAccount(provider);
  const chainId = await currentChainId(provider);
  let challenge: Awaited<ReturnType<typeof api.challenge>>;
  try {
    challenge = await api.challenge(account, chainId);
  } catch (err) {
    // The wallet is on a chain the bridge does not list: sign for the bridge's default chain
    // (personal_sign does not depend on the wallet's network).
    if (!(err instanceof AuthError) || err.code !== 'siwe_chain_not_allowed') throw err;
    challenge = await api.challenge(account);
  }
  const signature = await personalSign(provider, challenge.message, account);
  const session = client.session;
  let result: AuthSession;
  try {
    result = await api.verify({ message: challenge.message, signature, clientId: session?.clientId, token: session?.token });
  } catch (err) {
    // Our session token is stale: a refused token does not spend the nonce, so the same
    // signature still buys a fresh (new clientId) signed-in session.
    if (!(session && err instanceof AuthError && err.code === 'unauthorized')) throw err;
    result = await api.verify({ message: challenge.message, signature });
  }
  adopt(client, result);
  return result;
}

export async function signOut(client: SiweClient, fetchImpl?: typeof fetch): Promise<AuthSession | undefined> {
  const token = client.session?.token;
  if (!token) return undefined;
  const result = await apiFor(client, fetchImpl).signOut(token);
  adopt(client, result);
  return result;
}

/**
 * The address the current token claims (`addr`), for showing after a reload. Display only:
 * the server checks the signature on every use; nothing here is trusted.
 */
export function addressInToken(token: string | undefined): string | null {
  const payload = token?.split('.')[1];
  if (!payload) return null;
  try {
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(payload.length / 4) * 4, '='));
    const addr = (JSON.parse(json) as { addr?: unknown }).addr;
    return typeof addr === 'string' && /^0x[0-9a-fA-F]{40}$/.test(addr) ? addr : null;
  } catch {
    return null;
  }
}
