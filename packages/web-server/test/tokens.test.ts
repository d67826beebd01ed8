/** SessionTokens: HS256 pinned, claims set and checked. */
import jwt from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';
import { SessionTokens } from '../src/index.ts';

const SECRET = 'unit_secret_0123456789abcdef';
const tokens = new SessionTokens({ secret: SECRET, ttlS: 60 });
const opts = { issuer: 'agent-bridge', audience: 'agent-bridge-session' };

describe('SessionTokens', () => {
  it('round-trips clientId and address, with exp = iat + ttl', () => {
    const { token, expiresAt } = tokens.sign({ clientId: 'c-1', address: '0xAbC0000000000000000000000000000000000001' });
    const v = tokens.verify(token);
    expect(v).toEqual({ ok: true, clientId: 'c-1', address: '0xAbC0000000000000000000000000000000000001', exp: expect.any(Number) });
    const claims = jwt.decode(token) as jwt.JwtPayload;
    expect(claims).toMatchObject({ sub: 'c-1', iss: 'agent-bridge', aud: 'agent-bridge-session', addr: '0xAbC0000000000000000000000000000000000001' });
    expect(claims.exp! - claims.iat!).toBe(60);
    expect(Date.parse(expiresAt)).toBe(claims.exp! * 1000);
  });

  it('signs with the very secret given: a token verifies with the plain string secret elsewhere', () => {
    // The key is a KeyObject made once; tokens must stay interchangeable with other web servers.
    const { token } = tokens.sign({ clientId: 'c-3' });
    expect(jwt.verify(token, SECRET, { algorithms: ['HS256'], ...opts })).toMatchObject({ sub: 'c-3' });
    expect(() => jwt.verify(token, 'other_secret_0123456789abcd', { algorithms: ['HS256'] })).toThrow(/invalid signature/);
    expect(jwt.decode(token, { complete: true })!.header.alg).toBe('HS256');
  });

  it('leaves addr out of anonymous tokens', () => {
    const { token } = tokens.sign({ clientId: 'c-2', address: null });
    expect((jwt.decode(token) as jwt.JwtPayload).addr).toBeUndefined();
    expect(tokens.verify(token)).toMatchObject({ ok: true, address: null });
  });

  const refused: [string, string][] = [
    ['alg none', jwt.sign({ sub: 'c', ...{} }, '', { algorithm: 'none', ...opts, expiresIn: 60 } as jwt.SignOptions)],
    ['HS512', jwt.sign({}, SECRET, { algorithm: 'HS512', subject: 'c', ...opts, expiresIn: 60 })],
    ['another key', jwt.sign({}, 'other_secret_0123456789abcd', { subject: 'c', ...opts, expiresIn: 60 })],
    ['another issuer', jwt.sign({}, SECRET, { subject: 'c', issuer: 'x', audience: opts.audience, expiresIn: 60 })],
    ['another audience', jwt.sign({}, SECRET, { subject: 'c', issuer: opts.issuer, audience: 'x', expiresIn: 60 })],
    ['no subject', jwt.sign({}, SECRET, { ...opts, expiresIn: 60 })],
    ['no exp', jwt.sign({}, SECRET, { subject: 'c', ...opts })],
    ['expired beyond tolerance', jwt.sign({ exp: Math.floor(Date.now() / 1000) - 10 }, SECRET, { subject: 'c', ...opts })],
    ['issued in the future', jwt.sign({ iat: Math.floor(Date.now() / 1000) + 60 }, SECRET, { subject: 'c', ...opts, expiresIn: 600 })],
    ['non-string addr', jwt.sign({ addr: 42 }, SECRET, { subject: 'c', ...opts, expiresIn: 60 })],
    ['garbage', 'a.b.c'],
    ['empty', ''],
  ];
  it.each(refused)('refuses a token with %s', (_name, token) => {
    expect(tokens.verify(token)).toEqual({ ok: false, code: 'unauthorized', message: expect.any(String) });
  });

  it('forgives 5 s of clock skew on exp', () => {
    const token = jwt.sign({ exp: Math.floor(Date.now() / 1000) - 2 }, SECRET, { subject: 'c', ...opts });
    expect(tokens.verify(token).ok).toBe(true);
  });
});
