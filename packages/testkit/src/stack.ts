/**
 * The whole product as real processes: broker, web server (dialing the broker through a
 * TcpProxy so its upstream can be cut) and optionally the demo agent. Disposable: `close()`
 * ends everything, and every child is SIGKILLed if the test process dies first.
 */
import path from 'node:path';
import { REPO_ROOT } from '@agent-bridge/common';
import { ServiceProcess } from './service-process.ts';
import { TcpProxy } from './tcp-proxy.ts';

export interface StackOptions {
  /** Extra settings for every process (PROTOCOL §1 names). */
  env?: Record<string, string>;
  /** Start the demo agent (default false). */
  agent?: boolean;
  /** Start the web server (default true). */
  web?: boolean;
}

export interface Stack {
  env: Record<string, string>;
  broker: ServiceProcess;
  web: ServiceProcess;
  agent: ServiceProcess;
  /** web server → broker goes through this. */
  upstreamProxy: TcpProxy;
  /** http://127.0.0.1:PORT of the broker / web server. */
  readonly brokerUrl: string;
  readonly brokerWsUrl: string;
  readonly webUrl: string;
  readonly webWsUrl: string;
  close(): Promise<void>;
}

export const BASE_TEST_ENV: Record<string, string> = {
  NODE_ENV: 'test',
  LOG_LEVEL: 'info',
  LOG_FORMAT: 'json',
  AGENT_TOKEN: 'dev_token',
  PROXY_TOKEN: 'dev_proxy_token',
  JWT_SECRET: 'dev_jwt_secret_change_me',
  RATE_LIMIT_HTTP_PER_MIN: '10000',
  STATIC_ASSETS_PATH: path.join(REPO_ROOT, 'static'),
  // A test broker restarts fresh unless a test gives it its own snapshot file: never the
  // repository's data/broker-state.json, which every test process would share.
  STATE_SNAPSHOT_PATH: 'off',
};

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const env = { ...BASE_TEST_ENV, ...opts.env };
  const broker = new ServiceProcess({
    name: 'broker',
    entry: 'packages/websocket-server/src/main.ts',
    env: { ...env, WEBSOCKET_SERVER_ADDR: '127.0.0.1:0' },
    addrVar: 'WEBSOCKET_SERVER_ADDR',
  });
  await broker.start();
  const upstreamProxy = new TcpProxy(broker.port);
  await upstreamProxy.listen();
  // A restarted broker keeps its port, so the proxy target never changes.
  const web = new ServiceProcess({
    name: 'web-server',
    entry: 'packages/web-server/src/main.ts',
    env: { ...env, WEB_SERVER_ADDR: '127.0.0.1:0', BROKER_URL: `ws://127.0.0.1:${upstreamProxy.port}` },
    addrVar: 'WEB_SERVER_ADDR',
  });
  const agent = new ServiceProcess({
    name: 'demo-agent',
    entry: 'packages/demo-agent/src/main.ts',
    env: { ...env, BROKER_URL: `ws://127.0.0.1:${broker.port}` },
    readyLine: /connected/,
  });
  const started: ServiceProcess[] = [broker];
  const stack: Stack = {
    env,
    broker,
    web,
    agent,
    upstreamProxy,
    get brokerUrl() {
      return `http://127.0.0.1:${broker.port}`;
    },
    get brokerWsUrl() {
      return `ws://127.0.0.1:${broker.port}`;
    },
    get webUrl() {
      return `http://127.0.0.1:${web.port}`;
    },
    get webWsUrl() {
      return `ws://127.0.0.1:${web.port}`;
    },
    async close() {
      await Promise.all([agent, web, broker].map((p) => p.stop('SIGTERM', 5000).catch(() => undefined)));
      await upstreamProxy.close();
    },
  };
  try {
    if (opts.web !== false) {
      await web.start();
      started.push(web);
    }
    if (opts.agent) {
      await agent.start();
      started.push(agent);
    }
  } catch (err) {
    await stack.close();
    throw err;
  }
  return stack;
}
