/**
 * The browser-side sign-in module (src/siwe) run in Node against the real stack (broker and web
 * server processes): the paths the browser test does not take, such as a stale session token.
 * The wallet is an EIP-1193 object backed by an ethers Wallet, as in the browser test.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { getBytes, Wallet, type HDNodeWallet } from 'ethers';
import { startStack, registerClient, type Stack } from '@agent-bridge/testkit';
import { addressInToken, signIn, signOut, type SiweClient } from '../src/siwe/sign-in.ts';
import { shortAddress, utf8ToHex, type Eip1193Provider } from '../src/siwe/eip1193.ts';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ web: true });
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

function provider(wallet: HDNodeWallet, chainId = '0x1'): Eip1193Provider & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async request({ method, params }) {
      calls.push(method);
      if (method === 'eth_requestAccounts') return [wallet.address.toLowerCase()];
      if (method === 'eth_chainId') return chainId;
      if (method === 'personal_sign') return wallet.signMessage(getBytes(params![0] as string));
      throw Object.assign(new Error('unsupported'), { code: 4200 });
    },
  };
}

/** The two members of the browser client that sign-in uses, recording what it is given. */
function client(session?: { clientId: string; token: string }) {
  const c = {
    baseUrl: stack.webUrl,
    session,
    given: [] as { token: string; opts?: { expiresAt?: string; clientId?: string } }[],
    setToken(token: string, opts?: { expiresAt?: string; clientId?: string }) {
      c.given.push({ token, opts });
      c.session = { clientId: opts?.clientId ?? c.session?.clientId ?? '', token };
    },
  };
  return c satisfies SiweClient;
}

describe('signIn / signOut', () => {
  test('upgrades the current session: same clientId, token with addr handed to the client', async () => {
    const reg = await registerClient(stack.webUrl);
    const wallet = Wallet.createRandom();
    const c = client(reg);
    const p = provider(wallet);
    const result = await signIn(c, p);
    expect(p.calls).toEqual(['eth_requestAccounts', 'eth_chainId', 'personal_sign']);
    expect(result).toMatchObject({ clientId: reg.clientId, address: wallet.address });
    expect(c.given).toEqual([{ token: result.token, opts: { clientId: reg.clientId, expiresAt: result.expiresAt } }]);
    expect(addressInToken(c.session!.token)).toBe(wallet.address);

    const out = await signOut(c);
    expect(out).toMatchObject({ clientId: reg.clientId, address: null });
    expect(addressInToken(c.session!.token)).toBeNull();
  });

  test('a stale session token: the same signature still signs in, on a new clientId', async () => {
    const wallet = Wallet.createRandom();
    const c = client({ clientId: '00000000-0000-4000-8000-000000000000', token: 'expired.or.forged' });
    const result = await signIn(c, provider(wallet));
    expect(result.address).toBe(wallet.address);
    expect(result.clientId).not.toBe('00000000-0000-4000-8000-000000000000');
    expect(c.given[0]!.opts?.clientId).toBe(result.clientId);
  });

  test('no session yet: a new signed-in session', async () => {
    const wallet = Wallet.createRandom();
    const c = client(undefined);
    const result = await signIn(c, provider(wallet, '0x89'));
    expect(result.address).toBe(wallet.address);
    expect(c.session?.clientId).toBe(result.clientId);
  });

  test('server refusals surface as errors with their code; nothing is handed to the client', async () => {
    const wallet = Wallet.createRandom();
    const liar: Eip1193Provider = {
      async request({ method, params }) {
        if (method === 'eth_requestAccounts') return [wallet.address];
        if (method === 'eth_chainId') return '0x1';
        return Wallet.createRandom().signMessage(getBytes(params![0] as string));
      },
    };
    const c = client(undefined);
    await expect(signIn(c, liar)).rejects.toMatchObject({ status: 401, code: 'siwe_invalid_signature' });
    expect(c.given).toEqual([]);
  });
});

describe('helpers', () => {
  test('utf8ToHex encodes UTF-8 bytes', () => {
    expect(utf8ToHex('Aé…')).toBe('0x41c3a9e280a6');
  });
  test('shortAddress', () => {
    expect(shortAddress('0x52908400098527886E0F7030069857D2E4169EE7')).toBe('0x5290…9EE7');
  });
  test('addressInToken reads addr for display only, and tolerates garbage', () => {
    const payload = Buffer.from(JSON.stringify({ sub: 'c', addr: '0x52908400098527886E0F7030069857D2E4169EE7' })).toString('base64url');
    expect(addressInToken(`h.${payload}.s`)).toBe('0x52908400098527886E0F7030069857D2E4169EE7');
    expect(addressInToken('garbage')).toBeNull();
    expect(addressInToken(undefined)).toBeNull();
    expect(addressInToken(`h.${Buffer.from('{"addr":"<script>"}').toString('base64url')}.s`)).toBeNull();
  });
});
