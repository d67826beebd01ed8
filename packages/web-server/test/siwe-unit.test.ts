/**
 * The SIWE checks without HTTP: the nonce store's bounds and expiry, and one verifier test per
 * failure code, with an injected clock so time-based cases need no sleeping.
 */
import { afterEach, describe, expect, test, vi } from 'vitest';
import { Wallet } from 'ethers';
import { SiweMessage } from '@signinwithethereum/siwe';
import { MemoryNonceStore, generateNonce } from '../src/siwe/nonce-store.ts';
import { SiweVerifier } from '../src/siwe/verify.ts';
import { buildChallenge, SIWE_STATEMENT } from '../src/siwe/challenge.ts';
import { siweOrigin } from '../src/siwe/origin.ts';

const T0 = Date.parse('2026-11-25T18:00:00.000Z');
const origin = siweOrigin('http://127.0.0.1:8081');

let clock = T0;
const now = () => clock;
const stores: MemoryNonceStore[] = [];
function store(opts: ConstructorParameters<typeof MemoryNonceStore>[0] = {}) {
  const s = new MemoryNonceStore({ now, ...opts });
  stores.push(s);
  return s;
}
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  clock = T0;
});

describe('generateNonce', () => {
  test('is 22 alphanumeric characters and does not repeat', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const n = generateNonce();
      expect(n).toMatch(/^[A-Za-z0-9]{22}$/);
      seen.add(n);
    }
    expect(seen.size).toBe(1000);
  });
});

describe('MemoryNonceStore', () => {
  test('a nonce is ok once, then used; peek does not burn it', async () => {
    const s = store();
    const { nonce, expiresAt } = await s.issue(60_000);
    expect(expiresAt.getTime()).toBe(T0 + 60_000);
    expect(await s.peek(nonce)).toBe('ok');
    expect(await s.peek(nonce)).toBe('ok');
    expect(await s.consume(nonce)).toBe('ok');
    expect(await s.consume(nonce)).toBe('used');
    expect(await s.peek(nonce)).toBe('used');
    expect(await s.consume('neverIssued123456')).toBe('unknown');
  });

  test('concurrent consumes of one nonce: exactly one wins', async () => {
    const s = store();
    const { nonce } = await s.issue(60_000);
    const results = await Promise.all([s.consume(nonce), s.consume(nonce), s.consume(nonce)]);
    expect(results.filter((r) => r === 'ok')).toHaveLength(1);
  });

  test('expires, and the sweep forgets expired entries', async () => {
    const s = store();
    const { nonce } = await s.issue(1000);
    clock += 1000;
    expect(await s.consume(nonce)).toBe('expired');
    // Still held until the sweep: the sweep, not consume(), is what forgets it.
    expect(s.size).toBe(1);
    s.sweep();
    expect(s.size).toBe(0);
    expect(await s.peek(nonce)).toBe('unknown');
  });

  test('is bounded: a full store refuses rather than evicting an unexpired nonce; used ones make room', async () => {
    const s = store({ maxEntries: 3 });
    const issued = [];
    for (let i = 0; i < 3; i++) issued.push((await s.issue(60_000)).nonce);
    await expect(s.issue(60_000)).rejects.toMatchObject({ name: 'NonceRefused', reason: 'full' });
    for (const n of issued) expect(await s.peek(n)).toBe('ok');
    expect(await s.consume(issued[0]!)).toBe('ok');
    const fresh = (await s.issue(60_000)).nonce;
    expect(await s.peek(fresh)).toBe('ok');
    expect(await s.peek(issued[1]!)).toBe('ok');
    expect(s.size).toBe(3);
  });

  test('the sweep timer forgets expired entries on its own, and close() stops it', async () => {
    vi.useFakeTimers({ now: T0 });
    try {
      const s = new MemoryNonceStore({ sweepIntervalMs: 1000 });
      await s.issue(500);
      await s.issue(5000);
      vi.advanceTimersByTime(999);
      // The first one has expired but nothing swept it yet.
      expect(s.size).toBe(2);
      vi.advanceTimersByTime(1);
      expect(s.size).toBe(1);
      expect(vi.getTimerCount()).toBe(1);
      s.close();
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('SiweVerifier', () => {
  const wallet = Wallet.createRandom();
  const other = Wallet.createRandom();

  function setup(chainIds = [1, 137]) {
    const nonces = store();
    const verifier = new SiweVerifier({ origin: () => origin, chainIds, nonces, now });
    return { nonces, verifier };
  }

  async function challenge(nonces: MemoryNonceStore, chainId = 1) {
    const issued = await nonces.issue(5 * 60_000, {
      message: (nonce, expiresAt) => buildChallenge({ origin, address: wallet.address, chainId, nonce, issuedAt: new Date(clock), expiresAt }),
    });
    return issued.message!;
  }

  /**
   * A message with any field changed, stored with its nonce as if the server had issued exactly
   * that text (so each check below is reached on its own, not stopped by the exact-text check).
   */
  async function custom(nonces: MemoryNonceStore, fields: Partial<SiweMessage>) {
    const issued = await nonces.issue(5 * 60_000, { message: (nonce) => build(nonce, fields) });
    return issued.message!;
  }

  function build(nonce: string, fields: Partial<SiweMessage>): string {
    return new SiweMessage({
      scheme: 'http',
      domain: origin.domain,
      address: wallet.address,
      statement: SIWE_STATEMENT,
      uri: origin.uri,
      version: '1',
      chainId: 1,
      nonce,
      issuedAt: new Date(clock).toISOString(),
      expirationTime: new Date(clock + 5 * 60_000).toISOString(),
      ...fields,
    }).prepareMessage();
  }

  test('a good signature verifies, returns the EIP-55 address and burns the nonce', async () => {
    const { nonces, verifier } = setup();
    const message = await challenge(nonces);
    const res = await verifier.verify(message, await wallet.signMessage(message));
    expect(res).toMatchObject({ ok: true, address: wallet.address });
    if (!res.ok) throw new Error('unreachable');
    expect(await nonces.peek(res.nonce)).toBe('used');
  });

  test('an all-lowercase address in the message is accepted and normalised', async () => {
    const { nonces, verifier } = setup();
    const issued = await nonces.issue(60_000, { message: (nonce) => build(nonce, {}).replace(wallet.address, wallet.address.toLowerCase()) });
    const message = issued.message!;
    expect(message).toContain(wallet.address.toLowerCase());
    const res = await verifier.verify(message, await wallet.signMessage(message));
    expect(res).toMatchObject({ ok: true, address: wallet.address });
  });

  test('siwe_invalid_signature: wrong signer, and the nonce survives', async () => {
    const { nonces, verifier } = setup();
    const message = await challenge(nonces);
    expect(await verifier.verify(message, await other.signMessage(message))).toMatchObject({
      ok: false,
      status: 401,
      code: 'siwe_invalid_signature',
    });
    const nonce = new SiweMessage(message).nonce;
    expect(await nonces.peek(nonce)).toBe('ok');
    expect(await verifier.verify(message, await wallet.signMessage(message))).toMatchObject({ ok: true });
  });

  test.each([
    ['not hex', 'hello'],
    ['too short', '0x1234'],
    ['65 zero bytes', `0x${'00'.repeat(65)}`],
    ['66 bytes', `0x${'11'.repeat(66)}`],
  ])('siwe_invalid_signature: malformed signature (%s)', async (_name, sig) => {
    const { nonces, verifier } = setup();
    const message = await challenge(nonces);
    expect(await verifier.verify(message, sig)).toMatchObject({ ok: false, status: 401, code: 'siwe_invalid_signature' });
  });

  test('siwe_nonce_used: a replay of a good sign-in', async () => {
    const { nonces, verifier } = setup();
    const message = await challenge(nonces);
    const sig = await wallet.signMessage(message);
    expect((await verifier.verify(message, sig)).ok).toBe(true);
    expect(await verifier.verify(message, sig)).toMatchObject({ ok: false, code: 'siwe_nonce_used' });
  });

  test('siwe_nonce_unknown: a nonce this server never issued', async () => {
    const { verifier } = setup();
    const message = buildChallenge({
      origin,
      address: wallet.address,
      chainId: 1,
      nonce: 'madeUpByTheClient12345',
      issuedAt: new Date(clock),
      expiresAt: new Date(clock + 60_000),
    });
    expect(await verifier.verify(message, await wallet.signMessage(message))).toMatchObject({ ok: false, code: 'siwe_nonce_unknown' });
  });

  test('siwe_domain_mismatch: another host, another port, another scheme, no scheme on http', async () => {
    const { nonces, verifier } = setup();
    for (const fields of [
      { domain: 'evil.example' },
      { domain: '127.0.0.1:9999' },
      { scheme: 'https' },
      { scheme: undefined },
    ]) {
      const message = await custom(nonces, fields);
      expect(await verifier.verify(message, await wallet.signMessage(message))).toMatchObject({
        ok: false,
        status: 401,
        code: 'siwe_domain_mismatch',
      });
    }
  });

  test('siwe_uri_mismatch', async () => {
    const { nonces, verifier } = setup();
    const message = await custom(nonces, { uri: 'http://127.0.0.1:8081/elsewhere' });
    expect(await verifier.verify(message, await wallet.signMessage(message))).toMatchObject({ ok: false, code: 'siwe_uri_mismatch' });
  });

  test('siwe_chain_mismatch: a chain not in SIWE_CHAIN_IDS; another allowed chain is fine', async () => {
    const { nonces, verifier } = setup([1, 137]);
    const bad = await custom(nonces, { chainId: 5 });
    expect(await verifier.verify(bad, await wallet.signMessage(bad))).toMatchObject({ ok: false, code: 'siwe_chain_mismatch' });
    const good = await challenge(nonces, 137);
    expect(await verifier.verify(good, await wallet.signMessage(good))).toMatchObject({ ok: true });
  });

  test('siwe_issued_in_future: beyond the 30 s tolerance; within it is fine', async () => {
    const { nonces, verifier } = setup();
    const bad = await custom(nonces, { issuedAt: new Date(clock + 60_000).toISOString() });
    expect(await verifier.verify(bad, await wallet.signMessage(bad))).toMatchObject({ ok: false, code: 'siwe_issued_in_future' });
    const ok = await custom(nonces, { issuedAt: new Date(clock + 10_000).toISOString() });
    expect(await verifier.verify(ok, await wallet.signMessage(ok))).toMatchObject({ ok: true });
  });

  test('siwe_not_yet_valid: not-before beyond the tolerance; within it is fine', async () => {
    const { nonces, verifier } = setup();
    const bad = await custom(nonces, { notBefore: new Date(clock + 60_000).toISOString() });
    expect(await verifier.verify(bad, await wallet.signMessage(bad))).toMatchObject({ ok: false, code: 'siwe_not_yet_valid' });
    const ok = await custom(nonces, { notBefore: new Date(clock + 10_000).toISOString() });
    expect(await verifier.verify(ok, await wallet.signMessage(ok))).toMatchObject({ ok: true });
  });

  test('siwe_expired: the message expired (no tolerance), and the nonce outlived by the clock', async () => {
    const { nonces, verifier } = setup();
    const past = await custom(nonces, {
      issuedAt: new Date(clock - 120_000).toISOString(),
      expirationTime: new Date(clock - 1).toISOString(),
    });
    expect(await verifier.verify(past, await wallet.signMessage(past))).toMatchObject({ ok: false, code: 'siwe_expired' });

    // A client-built message with a far expiry cannot outlive the server's nonce.
    const far = await custom(nonces, { expirationTime: new Date(clock + 3600_000).toISOString() });
    const sig = await wallet.signMessage(far);
    clock += 5 * 60_000 + 1;
    expect(await verifier.verify(far, sig)).toMatchObject({ ok: false, code: 'siwe_expired' });
  });

  test('siwe_invalid_message: garbage, oversize, non-canonical text, version 2', async () => {
    const { nonces, verifier } = setup();
    const good = await challenge(nonces);
    const sig = await wallet.signMessage(good);
    for (const text of ['hello', '', 'x'.repeat(5000), `${good}\n`, good.replace('\n\n', '\n\n\n'), good.replace('Version: 1', 'Version: 2')]) {
      expect(await verifier.verify(text, sig)).toMatchObject({ ok: false, status: 400, code: 'siwe_invalid_message' });
    }
    // None of that burnt the nonce.
    expect(await verifier.verify(good, sig)).toMatchObject({ ok: true });
  });
});
