/** Shared fixtures: a temp SPA, settings, a web server on port 0, raw HTTP requests. */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { createLogger, loadConfig, type Config } from '@agent-bridge/common';
import { TcpProxy, type TestSocket } from '@agent-bridge/testkit';
import { startWebServer, type WebServer, type WebServerOptions } from '../src/index.ts';

export const INDEX_HTML = '<!doctype html><html><head><script type="module" src="/assets/app-abc123.js"></script></head><body><div id="root"></div></body></html>';
export const APP_JS = `console.log(${JSON.stringify('x'.repeat(4000))});`;
export const STYLE_CSS = `body { color: red; } ${'.a { margin: 0 }\n'.repeat(200)}`;

export interface TempSite {
  root: string;
  remove(): void;
}

/** A built-SPA look-alike: index.html, a hashed asset under assets/, a plain file. */
export function makeSite(opts: { index?: boolean } = {}): TempSite {
  // The root sits inside another folder holding a secret, so a traversal has something to find.
  const outer = mkdtempSync(path.join(os.tmpdir(), 'web-static-'));
  writeFileSync(path.join(outer, 'package.json'), '{"name":"OUTSIDE-SECRET"}');
  writeFileSync(path.join(outer, 'secret.js'), 'OUTSIDE-SECRET');
  const root = path.join(outer, 'site');
  mkdirSync(path.join(root, 'assets'), { recursive: true });
  if (opts.index !== false) writeFileSync(path.join(root, 'index.html'), INDEX_HTML);
  writeFileSync(path.join(root, 'assets', 'app-abc123.js'), APP_JS);
  writeFileSync(path.join(root, 'style.css'), STYLE_CSS);
  return { root, remove: () => rmSync(outer, { recursive: true, force: true }) };
}

export const PUBLIC_ORIGIN = 'http://app.test:8081';
export const JWT_SECRET = 'test_jwt_secret_0123456789';

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    WEB_SERVER_ADDR: '127.0.0.1:0',
    WEBSOCKET_SERVER_ADDR: '127.0.0.1:1',
    PUBLIC_ORIGIN,
    JWT_SECRET,
    LOG_LEVEL: 'silent',
    ...env,
  });
}

export const silentLogger = () => createLogger('web-server', { level: 'silent' });

export async function startWeb(env: Record<string, string>, opts: WebServerOptions = {}): Promise<WebServer> {
  return startWebServer(testConfig(env), { logger: silentLogger(), ...opts });
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
  json(): unknown;
}

/** A request exactly as written: no URL normalisation, no automatic decompression. */
export function rawRequest(
  baseUrl: string,
  pathAndQuery: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<RawResponse> {
  const base = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: base.hostname, port: base.port, path: pathAndQuery, method: opts.method ?? 'GET', headers: opts.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          const text = body.toString();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text, json: () => JSON.parse(text) });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** A real broker in this process, with test settings (port 0 unless given). */
export async function startTestBroker(env: Record<string, string> = {}) {
  const { startBroker } = await import('@agent-bridge/websocket-server');
  const config = loadConfig({ NODE_ENV: 'test', WEBSOCKET_SERVER_ADDR: '127.0.0.1:0', LOG_LEVEL: 'silent', ...env });
  return startBroker(config, { logger: createLogger('broker', { level: 'silent' }) });
}

/**
 * In-process broker(s), web servers, TCP proxies and sockets for pipe tests, each closed after
 * the test (registers its own afterEach). Short heartbeats and redials, so outages play out fast.
 */
export function pipeFixture(opts: { backoff?: { initialMs: number; maxMs: number } } = {}) {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  return {
    async broker(env: Record<string, string> = {}) {
      const b = await startTestBroker({ HEARTBEAT_INTERVAL_MS: '100', HEARTBEAT_TIMEOUT_MS: '3000', SESSION_TTL_MS: '10000', ...env });
      cleanups.push(() => b.close());
      return b;
    },
    async web(brokerWsUrl: string, env: Record<string, string> = {}): Promise<WebServer> {
      const site = makeSite();
      cleanups.push(() => site.remove());
      const w = await startWeb(
        { STATIC_ASSETS_PATH: site.root, BROKER_URL: brokerWsUrl, HEARTBEAT_INTERVAL_MS: '100', HEARTBEAT_TIMEOUT_MS: '3000', ...env },
        { backoff: opts.backoff ?? { initialMs: 150, maxMs: 300 } },
      );
      cleanups.push(() => w.close());
      return w;
    },
    async proxyTo(port: number): Promise<TcpProxy> {
      const p = new TcpProxy(port);
      await p.listen();
      cleanups.push(() => p.close());
      return p;
    },
    track<T extends TestSocket>(s: T): T {
      cleanups.push(() => s.ws.terminate());
      return s;
    },
  };
}
