/**
 * "Sign in with Ethereum" for the status bar: the injected wallet signs the bridge's EIP-4361
 * challenge and the live session is upgraded in place. Dependency-free (no ethers in the bundle).
 */
import { useCallback, useEffect, useState } from 'react';
import { AuthError } from './auth-api.ts';
import { injectedProvider, isUserRejection, shortAddress } from './eip1193.ts';
import { addressInToken, signIn, signOut, type SiweClient } from './sign-in.ts';

export interface SignInButtonProps {
  client: SiweClient;
}

type Busy = false | 'signing-in' | 'signing-out';

function describe(err: unknown): string {
  if (isUserRejection(err)) return 'The signature request was rejected in the wallet.';
  if (err instanceof AuthError) {
    if (err.status === 429) return 'Too many attempts; wait a minute and try again.';
    return `Sign-in failed: ${err.message}`;
  }
  return `Sign-in failed: ${err instanceof Error ? err.message : String(err)}`;
}

export function SignInButton({ client }: SignInButtonProps) {
  const [address, setAddress] = useState<string | null>(() => addressInToken(client.session?.token));
  const [busy, setBusy] = useState<Busy>(false);
  const [note, setNote] = useState<string | null>(null);

  // The client may register (or swap sessions) after the first render.
  useEffect(() => {
    return client.on?.('welcome', () => setAddress(addressInToken(client.session?.token)));
  }, [client]);

  const onSignIn = useCallback(async () => {
    setNote(null);
    const provider = injectedProvider();
    if (!provider) {
      setNote('No Ethereum wallet found: install one (e.g. MetaMask) to sign in.');
      return;
    }
    setBusy('signing-in');
    try {
      const result = await signIn(client, provider);
      setAddress(result.address);
    } catch (err) {
      setNote(describe(err));
    } finally {
      setBusy(false);
    }
  }, [client]);

  const onSignOut = useCallback(async () => {
    setNote(null);
    setBusy('signing-out');
    try {
      await signOut(client);
      setAddress(null);
    } catch (err) {
      if (err instanceof AuthError && err.status === 401) setAddress(null);
      else setNote(err instanceof AuthError ? `Sign-out failed: ${err.message}` : describe(err));
    } finally {
      setBusy(false);
    }
  }, [client]);

  return (
    <span className="siwe" data-testid="siwe">
      {address ? (
        <>
          <span className="siwe-address" data-testid="siwe-address" title={address}>
            {shortAddress(address)}
          </span>{' '}
          <button type="button" className="siwe-button" onClick={onSignOut} disabled={busy !== false}>
            {busy === 'signing-out' ? 'Signing out…' : 'Sign out'}
          </button>
        </>
      ) : (
        <button type="button" className="siwe-button" onClick={onSignIn} disabled={busy !== false}>
          {busy === 'signing-in' ? 'Check your wallet…' : 'Sign in with Ethereum'}
        </button>
      )}
      {note && (
        <span className="siwe-note" role="alert" data-testid="siwe-note" title={note}>
          {' '}
          {note}
        </span>
      )}
    </span>
  );
}

export default SignInButton;
