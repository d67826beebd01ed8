/**
 * TRUST_PROXY → Express `trust proxy`, and the same resolution for WebSocket upgrades (which never
 * reach Express), so rate limits and caps see one client address whichever path a request takes.
 *
 * `false` (default): the socket's peer is the client. A number: that many proxy hops in front of
 * us are trusted. Otherwise a comma-separated list of addresses/CIDRs (or Express's names
 * `loopback`, `linklocal`, `uniquelocal`): proxies whose X-Forwarded-For we believe.
 */
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import express from 'express';

export type TrustFn = (addr: string, hop: number) => boolean;
export type TrustSetting = boolean | number | string[];

export function parseTrustProxy(value: string): TrustSetting {
  const v = value.trim();
  if (v === '' || v === 'false') return false;
  if (/^\d{1,3}$/.test(v)) return Number(v);
  return v.split(',').map((s) => s.trim()).filter(Boolean);
}

/** The function Express compiles from the setting (it throws on a malformed address list). */
export function compileTrust(setting: TrustSetting): TrustFn {
  const app = express();
  app.set('trust proxy', setting);
  return app.get('trust proxy fn') as TrustFn;
}

/**
 * proxy-addr's walk: start at the socket peer and step back through X-Forwarded-For while the
 * current hop is trusted. The first untrusted address is the client.
 */
export function clientAddress(req: IncomingMessage, trust: TrustFn): string {
  const peer = req.socket.remoteAddress ?? '';
  const addrs = [peer];
  const xff = req.headers['x-forwarded-for'];
  if (xff) {
    const list = (Array.isArray(xff) ? xff.join(',') : xff).split(',').map((s) => s.trim()).filter(Boolean);
    for (let i = list.length - 1; i >= 0; i--) addrs.push(list[i]!);
  }
  let i = 0;
  while (i < addrs.length - 1 && trust(addrs[i]!, i)) i++;
  // Whatever a (trusted) proxy forwarded, the result goes into headers and keys: it must be an
  // address. Garbage counts as the last hop we could vouch for.
  while (i > 0 && isIP(addrs[i]!) === 0) i--;
  return addrs[i]!;
}

export function isLoopback(addr: string | undefined): boolean {
  if (!addr) return false;
  return addr === '::1' || addr.startsWith('127.') || addr.startsWith('::ffff:127.');
}
