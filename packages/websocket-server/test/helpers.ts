/**
 * Shared test helpers: an in-process broker with short settings, and raw ws peers (agents with
 * the agent token, "web server upstreams" with the proxy token) that queue parsed frames so a
 * test can say "the next frame of this type" or "no such frame within N ms".
 */
import { afterEach } from 'vitest';
import type WebSocket from 'ws';
import { BridgeToAgentFrame, BridgeToClientFrame, loadConfig } from '@agent-bridge/common';
import { refusedUpgrade, TestSocket, type Frame } from '@agent-bridge/testkit';
import { startBroker, type BrokerHandle, type BrokerOptions } from '../src/index.ts';

export const AGENT_TOKEN = 'test_agent_token';
export const PROXY_TOKEN = 'test_proxy_token';

export const BASE_ENV: Record<string, string> = {
  NODE_ENV: 'test',
  WEBSOCKET_SERVER_ADDR: '127.0.0.1:0',
  LOG_LEVEL: 'silent',
  AGENT_TOKEN,
  PROXY_TOKEN,
  HEARTBEAT_INTERVAL_MS: '1000',
  HEARTBEAT_TIMEOUT_MS: '10000',
  SESSION_TTL_MS: '5000',
  MAX_MESSAGE_BYTES: '8192',
  // These tests are about the frames themselves (exact shapes, byte budgets): the broker starts
  // no trace here. Trace context on the broker: observability.test.ts (TRACE on).
  TRACE: 'off',
};

export type { Frame };

const brokers: BrokerHandle[] = [];
const peers: Peer[] = [];
/** Frames a broker of these tests sent that their schema in common rejects (issue 10). */
const offSchema: string[] = [];

afterEach(async () => {
  for (const p of peers.splice(0)) p.ws.terminate();
  await Promise.all(brokers.splice(0).map((b) => b.close()));
  const bad = offSchema.splice(0);
  if (bad.length) throw new Error(`the broker sent ${bad.length} frame(s) that fail their schema:\n${bad.slice(0, 5).join('\n')}`);
});

/**
 * Every frame a test broker writes is parsed against BridgeToClientFrame / BridgeToAgentFrame, so
 * every scenario of these suites also checks that the broker's builders match the schemas.
 */
export function checkFrameOut(peer: 'agent' | 'client', text: string): void {
  const schema = peer === 'client' ? BridgeToClientFrame : BridgeToAgentFrame;
  const r = schema.safeParse(JSON.parse(text));
  if (!r.success) offSchema.push(`${peer}: ${text.slice(0, 300)} — ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
}

export async function broker(env: Record<string, string> = {}, opts: BrokerOptions = {}): Promise<BrokerHandle> {
  const b = await startBroker(loadConfig({ ...BASE_ENV, ...env }), { onFrameOut: checkFrameOut, ...opts });
  brokers.push(b);
  return b;
}

/** A raw ws peer that is terminated after each test. */
export class Peer extends TestSocket {
  constructor(ws: WebSocket) {
    super(ws);
    peers.push(this);
  }
}

export interface RefusedUpgrade {
  status: number;
  body: any;
}

/** Open a socket; resolves with the Peer, or rejects with the refused upgrade's status and body. */
export function open(url: string, options: WebSocket.ClientOptions = {}): Promise<Peer> {
  return Peer.open(url, options);
}

export const refused: (url: string, options?: WebSocket.ClientOptions) => Promise<RefusedUpgrade> = refusedUpgrade;

export interface AgentOpts {
  name?: string;
  token?: string;
  /** Send the name as ?name= instead of the header. */
  nameInQuery?: boolean;
  autoPong?: boolean;
}

/** An agent connection; resolves once its welcome arrived. */
export async function agent(b: BrokerHandle, opts: AgentOpts = {}): Promise<Peer & { welcome: Frame }> {
  const headers: Record<string, string> = { Authorization: `Bearer ${opts.token ?? AGENT_TOKEN}` };
  let url = `${b.wsUrl}/ws/agent`;
  if (opts.name !== undefined) {
    if (opts.nameInQuery) url += `?name=${encodeURIComponent(opts.name)}`;
    else headers['X-Agent-Name'] = opts.name;
  }
  const p = await open(url, { headers, autoPong: opts.autoPong ?? true });
  const welcome = await p.next('welcome');
  return Object.assign(p, { welcome });
}

export interface ClientOpts {
  lastSeq?: number | string;
  epoch?: string;
  address?: string;
  token?: string;
  autoPong?: boolean;
  /** §8 extension: `?accepted=inline`. */
  acceptedInline?: boolean;
}

/** A web server upstream for one client; resolves once its welcome arrived. */
export async function client(b: BrokerHandle, clientId: string, opts: ClientOpts = {}): Promise<Peer & { welcome: Frame }> {
  const headers: Record<string, string> = { Authorization: `Bearer ${opts.token ?? PROXY_TOKEN}` };
  if (opts.address) headers['X-Client-Address'] = opts.address;
  const q = new URLSearchParams();
  if (opts.lastSeq !== undefined) q.set('lastSeq', String(opts.lastSeq));
  if (opts.epoch !== undefined) q.set('epoch', opts.epoch);
  if (opts.acceptedInline) q.set('accepted', 'inline');
  const qs = q.size ? `?${q}` : '';
  const p = await open(`${b.wsUrl}/ws/client/${encodeURIComponent(clientId)}${qs}`, { headers, autoPong: opts.autoPong ?? true });
  const welcome = await p.next('welcome');
  return Object.assign(p, { welcome });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Poll until `fn` returns true. */
export async function until(fn: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

export async function getJson(url: string, init?: RequestInit): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body, headers: res.headers };
}
