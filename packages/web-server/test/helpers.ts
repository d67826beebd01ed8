/** Shared fixtures: a temp SPA, settings, a web server on port 0, raw HTTP requests. */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { createLogger, loadConfig, type Config } from '@agent-bridge/common';
import { TcpProxy, connectBrowser, connectRawAgent, registerClient, type TestSocket } from '@agent-bridge/testkit';
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

// Raw HTTP lives in the testkit (the e2e fuzzers use it too).
export { rawRequest, type RawResponse } from '@agent-bridge/testkit';

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
  const fx = {
    async broker(env: Record<string, string> = {}) {
      const b = await startTestBroker({ HEARTBEAT_INTERVAL_MS: '100', HEARTBEAT_TIMEOUT_MS: '3000', SESSION_TTL_MS: '10000', ...env });
      cleanups.push(() => b.close());
      return b;
    },
    /** `brokerWsUrl` may list several brokers, comma-separated (BROKER_URL). */
    async web(brokerWsUrl: string, env: Record<string, string> = {}, webOpts: WebServerOptions = {}): Promise<WebServer> {
      const site = makeSite();
      cleanups.push(() => site.remove());
      const w = await startWeb(
        { STATIC_ASSETS_PATH: site.root, BROKER_URL: brokerWsUrl, HEARTBEAT_INTERVAL_MS: '100', HEARTBEAT_TIMEOUT_MS: '3000', ...env },
        { backoff: opts.backoff ?? { initialMs: 150, maxMs: 300 }, ...webOpts },
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
    /**
     * The usual outage set-up: a broker, a web server dialing it through a TCP proxy (to cut),
     * a raw agent and a registered browser, both welcomed.
     */
    async linked(env: { broker?: Record<string, string>; web?: Record<string, string> } = {}) {
      const b = await fx.broker(env.broker);
      const proxy = await fx.proxyTo(b.port);
      const w = await fx.web(`ws://127.0.0.1:${proxy.port}`, env.web);
      const agent = fx.track(await connectRawAgent(b.url));
      await agent.next('welcome');
      const session = await registerClient(w.url);
      const browser = fx.track(await connectBrowser(w.url, session));
      const welcome = await browser.next('welcome');
      return { b, proxy, w, agent, session, browser, welcome };
    },
  };
  return fx;
}
