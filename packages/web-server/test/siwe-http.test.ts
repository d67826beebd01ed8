/**
 * Sign-In With Ethereum over HTTP against a real web server on port 0 (and a real in-process
 * broker): the whole flow with real ethers wallets, every refusal with its code, the session
 * token that comes out of it, and the rate limit on /auth/*.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Wallet, type HDNodeWallet } from 'ethers';
import jwt from 'jsonwebtoken';
import { SiweMessage } from '@signinwithethereum/siwe';
import type { WebServer } from '../src/index.ts';
import { JWT_SECRET, PUBLIC_ORIGIN, startTestBroker, startWeb } from './helpers.ts';

const DOMAIN = new URL(PUBLIC_ORIGIN).host;

let broker: Awaited<ReturnType<typeof startTestBroker>>;
let web: WebServer;

beforeAll(async () => {
  broker = await startTestBroker();
  web = await startWeb({ BROKER_URL: broker.wsUrl, SIWE_CHAIN_IDS: '1,137', RATE_LIMIT_HTTP_PER_MIN: '10000', SIWE_NONCES_PER_IP: '10000' });
});
afterAll(async () => {
  await web?.close();
  await broker?.close();
});

interface Answer {
  status: number;
  headers: Headers;
  body: any;
}

async function call(path: string, init: RequestInit = {}, base = web.url): Promise<Answer> {
  const res = await fetch(base + path, init);
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, headers: res.headers, body };
}

const challenge = (address: string, chainId?: number) =>
  call(`/auth/challenge?address=${encodeURIComponent(address)}${chainId === undefined ? '' : `&chainId=${chainId}`}`);

const verify = (body: unknown) =>
  call('/auth/verify', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

async function signedChallenge(wallet: HDNodeWallet = Wallet.createRandom()) {
  const c = await challenge(wallet.address);
  expect(c.status).toBe(200);
  const message = c.body.message as string;
  return { wallet, message, nonce: c.body.nonce as string, signature: await wallet.signMessage(message) };
}

/**
 * A message as a client might build it, on a nonce the server really issued; `issued` is the
 * message that nonce was issued with, signed.
 */
async function crafted(wallet: HDNodeWallet, fields: Partial<SiweMessage>, chainId?: number) {
  const c = await challenge(wallet.address, chainId);
  const now = Date.now();
  const message = new SiweMessage({
    scheme: 'http',
    domain: DOMAIN,
    address: wallet.address,
    statement: 'Sign in to Sploots (Agent Bridge)',
    uri: PUBLIC_ORIGIN,
    version: '1',
    chainId: 1,
    nonce: c.body.nonce,
    issuedAt: new Date(now).toISOString(),
    expirationTime: new Date(now + 5 * 60_000).toISOString(),
    ...fields,
  }).prepareMessage();
  const issued = { message: c.body.message as string, signature: await wallet.signMessage(c.body.message) };
  return { message, signature: await wallet.signMessage(message), issued };
}

const me = (token: string) => call('/api/me', { headers: { authorization: `Bearer ${token}` } });

describe('GET /auth/challenge', () => {
  test('an EIP-4361 message for the EIP-55 address, from PUBLIC_ORIGIN, with a fresh nonce', async () => {
    const wallet = Wallet.createRandom();
    const before = Date.now();
    const c = await challenge(wallet.address.toLowerCase());
    expect(c.status).toBe(200);
    expect(c.headers.get('cache-control')).toBe('no-store');
    expect(Object.keys(c.body).sort()).toEqual(['expiresAt', 'message', 'nonce']);
    const { message, nonce, expiresAt } = c.body;
    expect(nonce).toMatch(/^[A-Za-z0-9]{16,}$/);
    const parsed = new SiweMessage(message);
    expect(parsed.address).toBe(wallet.address); // checksummed
    expect(parsed.domain).toBe(DOMAIN);
    expect(parsed.scheme).toBe('http');
    expect(parsed.uri).toBe(PUBLIC_ORIGIN);
    expect(parsed.chainId).toBe(1);
    expect(parsed.nonce).toBe(nonce);
    expect(parsed.statement).toBe('Sign in to Sploots (Agent Bridge)');
    expect(parsed.version).toBe('1');
    const issued = Date.parse(parsed.issuedAt!);
    expect(issued).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(parsed.expirationTime!) - issued).toBe(5 * 60_000);
    expect(parsed.expirationTime).toBe(expiresAt);
    expect(message.startsWith(`http://${DOMAIN} wants you to sign in with your Ethereum account:\n${wallet.address}\n`)).toBe(true);

    const again = await challenge(wallet.address);
    expect(again.body.nonce).not.toBe(nonce);
  });

  test('chainId picks another allowed chain; one not in SIWE_CHAIN_IDS is 400 siwe_chain_not_allowed', async () => {
    const address = Wallet.createRandom().address;
    const ok = await challenge(address, 137);
    expect(ok.status).toBe(200);
    expect(new SiweMessage(ok.body.message).chainId).toBe(137);
    const bad = await challenge(address, 5);
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('siwe_chain_not_allowed');
    expect((await call(`/auth/challenge?address=${address}&chainId=abc`)).body.error.code).toBe('bad_request');
  });

  test.each([
    ['not hex', '0xnothex'],
    ['too short', '0x1234'],
    ['no 0x', 'a'.repeat(40)],
    ['ICAP', 'XE7338O073KYGTWWZN0F2WZ0R8PX5ZPPZS'],
    ['wrong checksum', '0x52908400098527886E0F7030069857D2E4169EE7'.replace('E7', 'e7')],
    ['an ENS name', 'vitalik.eth'],
  ])('an invalid address (%s) is 400 siwe_invalid_address', async (_name, address) => {
    const c = await challenge(address);
    expect(c.status).toBe(400);
    expect(c.body.error.code).toBe('siwe_invalid_address');
  });

  test('no address, or address given twice, is 400 bad_request', async () => {
    expect((await call('/auth/challenge')).body.error.code).toBe('bad_request');
    const a = Wallet.createRandom().address;
    const twice = await call(`/auth/challenge?address=${a}&address=${a}`);
    expect(twice.status).toBe(400);
    expect(twice.body.error.code).toBe('bad_request');
  });

  test('other methods and paths under /auth are JSON errors', async () => {
    expect((await call('/auth/challenge', { method: 'POST' })).status).toBe(405);
    const missing = await call('/auth/nope');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('not_found');
  });
});

describe('POST /auth/verify', () => {
  test('the whole flow: a new clientId, a token with addr, /api/me shows the address', async () => {
    const { wallet, message, signature } = await signedChallenge();
    const v = await verify({ message, signature });
    expect(v.status).toBe(200);
    expect(v.headers.get('cache-control')).toBe('no-store');
    expect(Object.keys(v.body).sort()).toEqual(['address', 'clientId', 'expiresAt', 'token']);
    expect(v.body.address).toBe(wallet.address);
    expect(v.body.clientId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(Date.parse(v.body.expiresAt)).toBeGreaterThan(Date.now());
    const claims = jwt.verify(v.body.token, JWT_SECRET, { algorithms: ['HS256'] }) as jwt.JwtPayload;
    expect(claims.sub).toBe(v.body.clientId);
    expect(claims.addr).toBe(wallet.address);
    const who = await me(v.body.token);
    expect(who.status).toBe(200);
    expect(who.body).toEqual({ clientId: v.body.clientId, address: wallet.address });
  });

  test('an upgrade keeps the clientId of the session token given with it', async () => {
    const reg = await call('/api/clients', { method: 'POST' });
    expect((await me(reg.body.token)).body.address).toBeNull();
    const { wallet, message, signature } = await signedChallenge();
    const v = await verify({ message, signature, clientId: reg.body.clientId, token: reg.body.token });
    expect(v.status).toBe(200);
    expect(v.body.clientId).toBe(reg.body.clientId);
    expect((await me(v.body.token)).body).toEqual({ clientId: reg.body.clientId, address: wallet.address });
  });

  test('a token for another clientId is 401 unauthorized, and does not burn the nonce', async () => {
    const a = await call('/api/clients', { method: 'POST' });
    const b = await call('/api/clients', { method: 'POST' });
    const { message, signature } = await signedChallenge();
    const v = await verify({ message, signature, clientId: a.body.clientId, token: b.body.token });
    expect(v.status).toBe(401);
    expect(v.body.error.code).toBe('unauthorized');
    const garbage = await verify({ message, signature, clientId: a.body.clientId, token: 'not.a.jwt' });
    expect(garbage.body.error.code).toBe('unauthorized');
    expect((await verify({ message, signature, clientId: a.body.clientId, token: a.body.token })).status).toBe(200);
  });

  test('siwe_nonce_used: the same signed message twice', async () => {
    const { message, signature } = await signedChallenge();
    expect((await verify({ message, signature })).status).toBe(200);
    const again = await verify({ message, signature });
    expect(again.status).toBe(401);
    expect(again.body.error.code).toBe('siwe_nonce_used');
  });

  test('siwe_invalid_signature: wrong signer; the nonce survives and the right signer still gets in', async () => {
    const { wallet, message, signature } = await signedChallenge();
    const bad = await verify({ message, signature: await Wallet.createRandom().signMessage(message) });
    expect(bad.status).toBe(401);
    expect(bad.body.error.code).toBe('siwe_invalid_signature');
    const good = await verify({ message, signature });
    expect(good.status).toBe(200);
    expect(good.body.address).toBe(wallet.address);
  });

  test.each([
    ['not hex', 'nothex'],
    ['truncated', '0xdeadbeef'],
    ['65 zero bytes', `0x${'00'.repeat(65)}`],
  ])('siwe_invalid_signature: malformed signature (%s) is 401, never 5xx', async (_name, sig) => {
    const { message } = await signedChallenge();
    const v = await verify({ message, signature: sig });
    expect(v.status).toBe(401);
    expect(v.body.error.code).toBe('siwe_invalid_signature');
  });

  test('siwe_nonce_unknown: a nonce the server never issued', async () => {
    const wallet = Wallet.createRandom();
    const { message, signature } = await crafted(wallet, { nonce: 'clientMadeThisUp123456' });
    const v = await verify({ message, signature });
    expect(v.status).toBe(401);
    expect(v.body.error.code).toBe('siwe_nonce_unknown');
  });

  const wallet = Wallet.createRandom();
  test.each<[string, Partial<SiweMessage>, number, string]>([
    ['another domain', { domain: 'evil.example' }, 401, 'siwe_domain_mismatch'],
    ['another port', { domain: 'app.test:9999' }, 401, 'siwe_domain_mismatch'],
    ['another scheme', { scheme: 'https' }, 401, 'siwe_domain_mismatch'],
    ['another URI', { uri: 'http://evil.example' }, 401, 'siwe_uri_mismatch'],
    ['a chain not allowed', { chainId: 5 }, 401, 'siwe_chain_mismatch'],
    ['issued in the future', { issuedAt: new Date(Date.now() + 10 * 60_000).toISOString() }, 401, 'siwe_issued_in_future'],
    ['not valid yet', { notBefore: new Date(Date.now() + 10 * 60_000).toISOString() }, 401, 'siwe_not_yet_valid'],
    [
      'expired',
      { issuedAt: new Date(Date.now() - 10 * 60_000).toISOString(), expirationTime: new Date(Date.now() - 60_000).toISOString() },
      401,
      'siwe_expired',
    ],
  ])('%s → %s %s, and the nonce is not burnt', async (_name, fields, status, code) => {
    const { message, signature, issued } = await crafted(wallet, fields);
    const v = await verify({ message, signature });
    expect(v.status).toBe(status);
    expect(v.body.error.code).toBe(code);
    // The message issued with that nonce still works: the refusal did not spend it.
    expect((await verify(issued)).status).toBe(200);
  });

  test('a client-built message is refused even when every field checks out: only the issued text verifies', async () => {
    const w = Wallet.createRandom();
    const { message, signature, issued } = await crafted(w, { chainId: 137, issuedAt: new Date(Date.now() + 5000).toISOString() }, 137);
    const v = await verify({ message, signature });
    expect(v.status).toBe(401);
    expect(v.body.error.code).toBe('siwe_message_mismatch');
    const ok = await verify(issued);
    expect(ok.status).toBe(200);
    expect(ok.body.address).toBe(w.address);
  });

  test.each([
    ['plain garbage', 'hello world'],
    ['almost a message', `${DOMAIN} wants you to sign in with your Ethereum account:\n0x123`],
    ['an oversize message', 'x'.repeat(10_000)],
  ])('siwe_invalid_message: %s is 400', async (_name, message) => {
    const v = await verify({ message, signature: `0x${'11'.repeat(65)}` });
    expect(v.status).toBe(400);
    expect(v.body.error.code).toBe('siwe_invalid_message');
  });

  test('a message changed after signing (non-canonical whitespace) is 400 siwe_invalid_message', async () => {
    const { message, signature } = await signedChallenge();
    const v = await verify({ message: message.replace('\n\n', '\n\n\n'), signature });
    expect(v.status).toBe(400);
    expect(v.body.error.code).toBe('siwe_invalid_message');
    expect((await verify({ message, signature })).status).toBe(200);
  });

  test.each<[string, unknown]>([
    ['no message', { signature: '0x00' }],
    ['no signature', { message: 'x' }],
    ['message not a string', { message: 42, signature: '0x00' }],
    ['clientId without token', { message: 'x', signature: '0x00', clientId: 'c' }],
    ['token without clientId', { message: 'x', signature: '0x00', token: 't' }],
    ['an array', [1, 2]],
  ])('missing fields (%s) are 400 bad_request', async (_name, body) => {
    const v = await verify(body);
    expect(v.status).toBe(400);
    expect(v.body.error.code).toBe('bad_request');
  });

  test('a body that is not JSON is 400 bad_request', async () => {
    const broken = await call('/auth/verify', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"message":' });
    expect(broken.status).toBe(400);
    expect(broken.body.error.code).toBe('bad_request');
    // Not JSON at all is refused before any parsing (a cross-site form or text/plain POST).
    const text = await call('/auth/verify', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'message=x' });
    expect(text.status).toBe(415);
    expect(text.body.error.code).toBe('unsupported_media_type');
    const none = await call('/auth/verify', { method: 'POST' });
    expect(none.status).toBe(400);
    expect(none.body.error.code).toBe('bad_request');
  });

  test('a huge body is 413 payload_too_large', async () => {
    const v = await verify({ message: 'x'.repeat(100_000), signature: '0x00' });
    expect(v.status).toBe(413);
    expect(v.body.error.code).toBe('payload_too_large');
    // The app's one error handler answers for the sign-in router too, naming the sign-in limit (16 KiB).
    expect(v.body.error.message).toBe('the body is over 16384 bytes');
  });
});

describe('POST /auth/signout', () => {
  test('a fresh anonymous token for the same clientId', async () => {
    const { message, signature } = await signedChallenge();
    const v = await verify({ message, signature });
    const out = await call('/auth/signout', { method: 'POST', headers: { authorization: `Bearer ${v.body.token}` } });
    expect(out.status).toBe(200);
    expect(out.body).toMatchObject({ clientId: v.body.clientId, address: null });
    expect((jwt.decode(out.body.token) as jwt.JwtPayload).addr).toBeUndefined();
    expect((await me(out.body.token)).body).toEqual({ clientId: v.body.clientId, address: null });
  });

  test('without a valid session token it is 401 unauthorized', async () => {
    expect((await call('/auth/signout', { method: 'POST' })).status).toBe(401);
    const bad = await call('/auth/signout', { method: 'POST', headers: { authorization: 'Bearer nope' } });
    expect(bad.status).toBe(401);
    expect(bad.body.error.code).toBe('unauthorized');
  });
});

describe('session tokens after sign-in are checked strictly on /api/me', () => {
  const opts = { issuer: 'agent-bridge', audience: 'agent-bridge-session' };
  let token: string;
  let clientId: string;
  let address: string;
  beforeAll(async () => {
    const { message, signature, wallet } = await signedChallenge();
    const v = await verify({ message, signature });
    ({ token, clientId } = v.body);
    address = wallet.address;
  });

  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

  test('the genuine token works', async () => {
    expect((await me(token)).body).toEqual({ clientId, address });
  });

  test.each<[string, () => string]>([
    [
      'payload tampered (addr swapped)',
      () => {
        const [h, p, s] = token.split('.');
        const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
        return [h, b64({ ...claims, addr: Wallet.createRandom().address }), s].join('.');
      },
    ],
    [
      'alg none',
      () => {
        const claims = jwt.decode(token) as jwt.JwtPayload;
        return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
      },
    ],
    [
      'alg none via jsonwebtoken',
      () => jwt.sign({ addr: address }, '', { algorithm: 'none', subject: clientId, ...opts, expiresIn: 60 } as jwt.SignOptions),
    ],
    ['expired', () => jwt.sign({ addr: address, iat: Math.floor(Date.now() / 1000) - 7200, exp: Math.floor(Date.now() / 1000) - 3600 }, JWT_SECRET, { subject: clientId, ...opts })],
    ['signed with another secret', () => jwt.sign({ addr: address }, 'another_secret_0123456789', { subject: clientId, ...opts, expiresIn: 60 })],
    ['another audience', () => jwt.sign({ addr: address }, JWT_SECRET, { subject: clientId, issuer: opts.issuer, audience: 'someone-else', expiresIn: 60 })],
    ['HS512 with the right secret', () => jwt.sign({ addr: address }, JWT_SECRET, { algorithm: 'HS512', subject: clientId, ...opts, expiresIn: 60 })],
  ])('%s → 401 unauthorized', async (_name, forge) => {
    const r = await me(forge());
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe('unauthorized');
  });
});

describe('rate limit on /auth/*', () => {
  test('beyond RATE_LIMIT_HTTP_PER_MIN requests a minute: 429 rate_limited', async () => {
    const limited = await startWeb({ BROKER_URL: broker.wsUrl, RATE_LIMIT_HTTP_PER_MIN: '3' });
    try {
      const address = Wallet.createRandom().address;
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await call(`/auth/challenge?address=${address}`, {}, limited.url)).status);
      expect(statuses).toEqual([200, 200, 200]);
      const over = await call('/auth/verify', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }, limited.url);
      expect(over.status).toBe(429);
      expect(over.body.error.code).toBe('rate_limited');
      expect((await call(`/auth/challenge?address=${address}`, {}, limited.url)).status).toBe(429);
    } finally {
      await limited.close();
    }
  });
});
