/** Clients of the real stack as a browser and an agent runtime would be, without a browser. */
import { TestSocket } from './test-socket.ts';

export interface Session {
  clientId: string;
  token: string;
  expiresAt: string;
}

export async function registerClient(webUrl: string): Promise<Session> {
  const res = await fetch(`${webUrl}/api/clients`, { method: 'POST' });
  if (res.status !== 201) throw new Error(`POST /api/clients → ${res.status} ${await res.text()}`);
  return (await res.json()) as Session;
}

export interface BrowserConnectOptions {
  lastSeq?: number;
  epoch?: string;
  origin?: string;
  /** §8 extension: `?accepted=inline` (accepteds ride on the next frame). */
  acceptedInline?: boolean;
}

/** A browser-like socket through the web server: `/ws/:clientId?token=…`. */
export function connectBrowser(webUrl: string, session: Session, opts: BrowserConnectOptions = {}): Promise<TestSocket> {
  const u = new URL(`/ws/${session.clientId}`, webUrl.replace(/^http/, 'ws'));
  u.searchParams.set('token', session.token);
  if (opts.lastSeq !== undefined) u.searchParams.set('lastSeq', String(opts.lastSeq));
  if (opts.epoch !== undefined) u.searchParams.set('epoch', opts.epoch);
  if (opts.acceptedInline) u.searchParams.set('accepted', 'inline');
  return TestSocket.open(u.toString(), opts.origin ? { origin: opts.origin } : {});
}

/** A raw agent runtime on the broker: `/ws/agent` with a bearer token. */
export function connectRawAgent(brokerUrl: string, opts: { token?: string; name?: string } = {}): Promise<TestSocket> {
  const u = new URL('/ws/agent', brokerUrl.replace(/^http/, 'ws'));
  const headers: Record<string, string> = { authorization: `Bearer ${opts.token ?? 'dev_token'}` };
  if (opts.name) headers['x-agent-name'] = opts.name;
  return TestSocket.open(u.toString(), { headers });
}
