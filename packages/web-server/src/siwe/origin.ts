import { loopbackAlternates } from '../ws/origin.ts';

/** What a SIWE message must name, derived once from PUBLIC_ORIGIN. */
export interface SiweOrigin {
  /** `http` or `https`: written into the message so a wallet can compare the whole origin. */
  scheme: string;
  /** RFC 3986 authority: host plus port when it has one (`127.0.0.1:8081`). */
  domain: string;
  /** The origin itself, e.g. `https://sploots.example`. */
  uri: string;
}

export function siweOrigin(publicOrigin: string): SiweOrigin {
  const url = new URL(publicOrigin);
  return { scheme: url.protocol.replace(/:$/, ''), domain: url.host, uri: url.origin };
}

/**
 * Every origin a sign-in may name: PUBLIC_ORIGIN first, and in development its loopback
 * spellings (the same ones the WebSocket Origin check admits, ws/origin.ts).
 */
export function siweOrigins(publicOrigin: string, development: boolean): SiweOrigin[] {
  const all = [publicOrigin, ...(development ? loopbackAlternates(publicOrigin) : [])];
  return all.map(siweOrigin);
}
