import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { Backoff, ConfigError, loadConfig, REPO_ROOT, tokenMatches, bearerToken } from '../src/index.ts';

describe('loadConfig', () => {
  test('defaults follow PROTOCOL §1', () => {
    const c = loadConfig({});
    expect(c.broker).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(c.web).toEqual({ host: '127.0.0.1', port: 8081 });
    expect(c.BROKER_URL).toBe('ws://127.0.0.1:8080');
    expect(c.PUBLIC_ORIGIN).toBe('http://127.0.0.1:8081');
    expect(c.AGENT_TOKEN).toEqual(['dev_token']);
    expect(c.MAX_MESSAGE_BYTES).toBe(65536);
    expect(c.STATIC_ROOT).toBe(path.join(REPO_ROOT, 'static'));
  });
  test('several agent tokens for rotation', () => {
    expect(loadConfig({ AGENT_TOKEN: 'a, b ,c' }).AGENT_TOKEN).toEqual(['a', 'b', 'c']);
  });
  test('port 0 is allowed', () => {
    expect(loadConfig({ WEBSOCKET_SERVER_ADDR: '127.0.0.1:0' }).broker.port).toBe(0);
  });
  test.each([
    ['MAILBOX_LIMIT', 'lots', /MAILBOX_LIMIT/],
    ['WEB_SERVER_ADDR', 'nohost', /WEB_SERVER_ADDR: must be HOST:PORT/],
    ['WEB_SERVER_ADDR', '127.0.0.1:70000', /port must be/],
    ['BROKER_URL', 'http://x', /BROKER_URL: must be ws:\/\/ or wss:\/\/ URLs/],
    ['LOG_LEVEL', 'loud', /LOG_LEVEL/],
    ['HEARTBEAT_TIMEOUT_MS', '10', /HEARTBEAT_TIMEOUT_MS/],
    ['SIWE_CHAIN_IDS', '1,x', /SIWE_CHAIN_IDS/],
  ])('%s=%s is refused with one clear line', (key, value, re) => {
    expect(() => loadConfig({ [key]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [key]: value })).toThrow(re);
  });
  test('a bad secret value is never echoed', () => {
    try {
      loadConfig({ JWT_SECRET: 'short-secret' });
      expect.unreachable();
    } catch (e) {
      expect(String(e)).toContain('JWT_SECRET');
      expect(String(e)).not.toContain('short-secret');
    }
  });
  test('production refuses development secrets', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/AGENT_TOKEN, PROXY_TOKEN, JWT_SECRET/);
    expect(() =>
      loadConfig({ NODE_ENV: 'production', AGENT_TOKEN: 'x1', PROXY_TOKEN: 'x2', JWT_SECRET: 'a-real-secret-of-length' }),
    ).not.toThrow();
  });
  test('loadConfigOrExit prints one line and exits 1', () => {
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', '-e', "import('./packages/common/src/config.ts').then(m => m.loadConfigOrExit('svc'))"],
      { cwd: REPO_ROOT, env: { ...process.env, MAILBOX_LIMIT: '-3' }, encoding: 'utf8' },
    );
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^svc: invalid setting MAILBOX_LIMIT/);
  });
});

describe('Backoff', () => {
  test('1 s, 2 s, 4 s … capped at 60 s, ±20 %', () => {
    const lo = new Backoff({ random: () => 0 });
    const hi = new Backoff({ random: () => 1 });
    const los = Array.from({ length: 9 }, () => lo.next());
    const his = Array.from({ length: 9 }, () => hi.next());
    expect(los.slice(0, 3)).toEqual([800, 1600, 3200]);
    expect(his.slice(0, 3)).toEqual([1200, 2400, 4800]);
    expect(los.at(-1)).toBe(48000);
    expect(his.at(-1)).toBe(72000);
    lo.reset();
    expect(lo.next()).toBe(800);
  });
});

describe('tokens', () => {
  test('constant-time match over several tokens', () => {
    expect(tokenMatches('b', ['a', 'b'])).toBe(true);
    expect(tokenMatches('c', ['a', 'b'])).toBe(false);
    expect(tokenMatches('', ['a'])).toBe(false);
    expect(tokenMatches(undefined, ['a'])).toBe(false);
  });
  test('bearer header parsing', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer abc')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});
