/**
 * Settings of PROTOCOL §1 (and our own additions), loaded from the environment and `.env` with
 * dotenv and validated with zod. A bad value is one clear line on stderr and exit code 1.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { config as dotenv } from 'dotenv';
import { z } from 'zod';

/**
 * The repository root: relative paths in settings resolve against it, not the cwd. Found by
 * walking up to pnpm-workspace.yaml, so it is the same from source (packages/common/src) and
 * from a bundle in dist/.
 */
export const REPO_ROOT = findRepoRoot(path.dirname(fileURLToPath(import.meta.url)));

function findRepoRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'pnpm-workspace.yaml'))) return dir;
    if (path.dirname(dir) === dir) return process.cwd();
  }
}

export const DEV_SECRETS = {
  AGENT_TOKEN: 'dev_token',
  PROXY_TOKEN: 'dev_proxy_token',
  JWT_SECRET: 'dev_jwt_secret_change_me',
} as const;

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);

/** host:port with port 0..65535; IPv6 hosts in brackets. */
const addr = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/, 'must be HOST:PORT').refine(
  (v) => Number(v.slice(v.lastIndexOf(':') + 1)) <= 65535,
  'port must be 0-65535',
);
const protocolOf = (v: string): string => {
  try {
    return new URL(v).protocol;
  } catch {
    return '';
  }
};
const url = (protocols: string[]) =>
  z.string().refine((v) => {
    try {
      return protocols.includes(new URL(v).protocol);
    } catch {
      return false;
    }
  }, `must be a ${protocols.join(' or ')} URL`);

const secretList = z
  .string()
  .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
  .refine((l) => l.length > 0, 'must hold at least one token');

export const SettingsSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  WEBSOCKET_SERVER_ADDR: addr.default('127.0.0.1:8080'),
  WEB_SERVER_ADDR: addr.default('127.0.0.1:8081'),
  AGENT_TOKEN: secretList.default([DEV_SECRETS.AGENT_TOKEN]),
  PROXY_TOKEN: z.string().min(1).default(DEV_SECRETS.PROXY_TOKEN),
  JWT_SECRET: z.string().min(16, 'must be at least 16 characters').default(DEV_SECRETS.JWT_SECRET),
  /** One broker URL, or several comma-separated (cluster mode, PROTOCOL §10): the web server spreads clients over them. */
  BROKER_URL: z
    .string()
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .refine((l) => l.length > 0 && l.every((u) => ['ws:', 'wss:'].includes(protocolOf(u))), 'must be ws:// or wss:// URLs, comma-separated')
    .optional(),
  /** Cluster mode (PROTOCOL §10): unset keeps every piece of state in this process's memory. */
  REDIS_URL: url(['redis:', 'rediss:']).optional(),
  /** Every Redis key and channel of this bridge starts with it, so two bridges can share one Redis. */
  CLUSTER_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be 1-64 letters, digits or _ . : -')
    .default('ab'),
  /** This process's name in the cluster (shown in /healthz); default random per start. */
  NODE_ID: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 letters, digits or _ . -')
    .optional(),
  /**
   * Embedded mode (no REDIS_URL): where a broker stopped with SIGTERM writes its state and reads it
   * back at start, so a restart resumes every client. Relative paths resolve against the
   * repository root; `off` disables it.
   */
  STATE_SNAPSHOT_PATH: z.string().min(1).default('./data/broker-state.json'),
  STATIC_ASSETS_PATH: z.string().min(1).default('./static'),
  PUBLIC_ORIGIN: url(['http:', 'https:']).optional(),
  ALLOWED_ORIGINS: z
    .string()
    .default('')
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean)),
  HEARTBEAT_INTERVAL_MS: int(10).default(5000),
  HEARTBEAT_TIMEOUT_MS: int(20).default(30000),
  MAX_MESSAGE_BYTES: int(64, 64 * 1024 * 1024).default(65536),
  MAILBOX_LIMIT: int(1).default(100),
  SOCKET_BUFFER_BYTES: int(1024).default(1024 * 1024),
  SESSION_TTL_MS: int(0).default(120000),
  RESUME_BUFFER_FRAMES: int(1).default(1000),
  RESUME_BUFFER_BYTES: int(1024).default(4 * 1024 * 1024),
  AGENT_QUEUE_LIMIT: int(0).default(100),
  /**
   * Cluster (§8): the most resend references kept per agent name (messages held for its
   * connections), for all wait queues together and of agent frame ids per session, beside their
   * SESSION_TTL_MS age bound; kept in two generations of half, the older dropped whole (at least
   * the newest half kept). docs/cluster.md says what a dropped one costs.
   */
  CLUSTER_REFS_LIMIT: int(1).default(100_000),
  OUTAGE_BUFFER_FRAMES: int(0).default(100),
  /**
   * Broker-wide budgets (issue 9), sized so a broker on a 2-core / 24 GB machine stays well under
   * ~1.5 GB RSS at the defaults whatever anonymous clients do; docs/protocol.md "Global budgets"
   * gives the arithmetic. Bytes are UTF-8 bytes of the held frames plus a fixed per-frame overhead.
   */
  RESUME_BUDGET_BYTES: int(1024).default(256 * 1024 * 1024),
  WAIT_QUEUE_BUDGET_BYTES: int(0).default(64 * 1024 * 1024),
  WAIT_QUEUE_CLIENT_BYTES: int(0).default(1024 * 1024),
  MAX_SESSIONS: int(1).default(10000),
  MAX_SESSIONS_PER_IP: int(1).default(100),
  MAX_AGENT_CONNECTIONS: int(1).default(256),
  SESSION_TOKEN_TTL_S: int(1).default(86400),
  RATE_LIMIT_HTTP_PER_MIN: int(1).default(60),
  CLIENT_RATE_PER_SEC: int(1).default(50),
  CLIENT_RATE_BURST: int(1).default(200),
  SIWE_CHAIN_IDS: z
    .string()
    .default('1')
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean).map(Number))
    .refine((l) => l.length > 0 && l.every((n) => Number.isInteger(n) && n > 0), 'must be positive integers, comma-separated'),
  /**
   * Bearer token for GET /metrics on both services. Unset: /metrics answers 404 unless the request
   * comes from a loopback address (metrics are not public by default).
   */
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /**
   * Which proxies to trust for X-Forwarded-For (Express "trust proxy"): unset/`false` = none
   * (the socket address is the client), a hop count (`1`), or a comma-separated list of
   * addresses/CIDRs (`10.0.0.0/8,127.0.0.1`).
   */
  TRUST_PROXY: z.string().default('false'),
  /** server.maxConnections: TCP connections a service accepts at once (HTTP and WebSocket). */
  MAX_CONNECTIONS: int(1).default(8192),
  /** Open TCP connections (and, at the web server, browser sockets) per client address. */
  CONNECTIONS_PER_IP: int(1).default(256),
  /** A request (or WebSocket upgrade) must finish its headers within this; slowloris bound. */
  HTTP_HEADERS_TIMEOUT_MS: int(100).default(10000),
  /** A whole HTTP request (headers and body) must arrive within this. */
  HTTP_REQUEST_TIMEOUT_MS: int(100).default(30000),
  /** Web server: browser upgrades per clientId per minute (token bucket, burst = the same number); excess 429. */
  WS_UPGRADES_PER_MIN_PER_CLIENT: int(1).default(20),
  /** Web server: browser upgrades per client IP per minute (token bucket); excess 429. */
  WS_UPGRADES_PER_MIN_PER_IP: int(1).default(300),
  /** Web server: bytes of browser frames held across all pipes while their upstreams are down. */
  OUTAGE_HOLD_BYTES: int(0).default(64 * 1024 * 1024),
  /** Web server: longest a pipe may stay paused for backpressure (either direction); then 1013. */
  PIPE_PAUSE_MAX_MS: int(10).default(60000),
  /** Web server: unexpired sign-in challenges (nonces) outstanding per client IP; excess 429. */
  SIWE_NONCES_PER_IP: int(1).default(20),
  /**
   * After SIGTERM, how long a service keeps serving with /readyz answering 503 before it starts
   * closing connections, so a load balancer that polls /readyz stops sending new ones first
   * (PROTOCOL §11). Set it to the balancer's probe interval × failure threshold.
   */
  DRAIN_DELAY_MS: int(0, 60000).default(0),
  /**
   * Bearer token for the ops view (GET /api/ops and the /ops page's data). Unset: /api/ops answers
   * 404, as if there were none.
   */
  OPS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /**
   * `off` stops the per-frame metrics (frames, bytes, delivery and end-to-end latency): they stay
   * registered and read 0. For measuring what instrumentation costs (pnpm bench); keep `on`.
   */
  METRICS: z.enum(['on', 'off']).default('on'),
  /**
   * `off`: the bridge starts no trace where a frame came without one and logs no trace ids
   * (a `_meta` a sender put on a frame still passes through unchanged). For cost comparison.
   */
  TRACE: z.enum(['on', 'off']).default('on'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['json', 'pretty']).default('json'),
});

type Raw = z.infer<typeof SettingsSchema>;
export interface Config extends Omit<Raw, 'BROKER_URL' | 'PUBLIC_ORIGIN' | 'NODE_ID' | 'STATE_SNAPSHOT_PATH'> {
  /** The first of BROKER_URLS (the only one outside cluster mode). */
  BROKER_URL: string;
  /** Every broker the web server may use (BROKER_URL split at commas). */
  BROKER_URLS: string[];
  /** NODE_ID, or a random id for this start. */
  NODE_ID: string;
  /** STATE_SNAPSHOT_PATH resolved against the repository root; null when `off`. */
  STATE_SNAPSHOT_PATH: string | null;
  PUBLIC_ORIGIN: string;
  /** STATIC_ASSETS_PATH resolved against the repository root. */
  STATIC_ROOT: string;
  broker: { host: string; port: number };
  web: { host: string; port: number };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function splitAddr(v: string): { host: string; port: number } {
  const i = v.lastIndexOf(':');
  return { host: v.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(v.slice(i + 1)) };
}

/** A host as it goes into a URL: an IPv6 literal in brackets. */
export function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** Validate `env` (process.env by default). Throws ConfigError with one readable line. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // Empty strings mean "unset" so that `FOO=` in a .env file falls back to the default.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = SettingsSchema.safeParse(cleaned);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const key = String(issue.path[0] ?? 'config');
    const given = cleaned[key];
    const shown = given === undefined || /TOKEN|SECRET/.test(key) ? '' : ` (got "${String(given).slice(0, 80)}")`;
    throw new ConfigError(`invalid setting ${key}: ${issue.message}${shown}`);
  }
  const raw = result.data;
  if (raw.HEARTBEAT_TIMEOUT_MS <= raw.HEARTBEAT_INTERVAL_MS) {
    throw new ConfigError('invalid setting HEARTBEAT_TIMEOUT_MS: must be greater than HEARTBEAT_INTERVAL_MS');
  }
  if (raw.NODE_ENV === 'production') {
    const defaults = (Object.keys(DEV_SECRETS) as (keyof typeof DEV_SECRETS)[]).filter((k) => {
      const v = raw[k];
      return Array.isArray(v) ? v.includes(DEV_SECRETS[k]) : v === DEV_SECRETS[k];
    });
    if (defaults.length) {
      throw new ConfigError(`refusing to start in production with development secrets: set ${defaults.join(', ')}`);
    }
  }
  const web = splitAddr(raw.WEB_SERVER_ADDR);
  const publicHost = urlHost(web.host);
  return {
    ...raw,
    BROKER_URL: raw.BROKER_URL?.[0] ?? `ws://${raw.WEBSOCKET_SERVER_ADDR}`,
    BROKER_URLS: raw.BROKER_URL ?? [`ws://${raw.WEBSOCKET_SERVER_ADDR}`],
    NODE_ID: raw.NODE_ID ?? randomUUID().slice(0, 8),
    STATE_SNAPSHOT_PATH: raw.STATE_SNAPSHOT_PATH === 'off' ? null : path.resolve(REPO_ROOT, raw.STATE_SNAPSHOT_PATH),
    PUBLIC_ORIGIN: new URL(raw.PUBLIC_ORIGIN ?? `http://${publicHost}:${web.port}`).origin,
    STATIC_ROOT: path.resolve(REPO_ROOT, raw.STATIC_ASSETS_PATH),
    broker: splitAddr(raw.WEBSOCKET_SERVER_ADDR),
    web,
  };
}

/**
 * For a service's main(): read `.env` at the repository root (the environment wins), validate,
 * and on a bad value print one line and exit 1.
 */
export function loadConfigOrExit(service: string): Config {
  dotenv({ path: path.join(REPO_ROOT, '.env'), quiet: true });
  try {
    return loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${service}: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}
