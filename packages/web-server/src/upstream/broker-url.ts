/** Where the broker lives, derived once from BROKER_URL (ws:// or wss://, maybe with a path prefix). */
import { ACCEPTED_INLINE, ACCEPTED_QUERY, BrokerPath } from '@agent-bridge/common';

/** The URL without query or hash, and its path prefix without a trailing slash ('' for none). */
function base(brokerUrl: string): { url: URL; prefix: string } {
  const url = new URL(brokerUrl);
  url.search = '';
  url.hash = '';
  return { url, prefix: url.pathname.replace(/\/+$/, '') };
}

/** `ws://broker/ws/client/<id>?lastSeq=N&epoch=E[&accepted=inline]` */
export function clientUpstreamUrl(brokerUrl: string, clientId: string, resume: { lastSeq?: number; epoch?: string }, acceptedInline = false): string {
  const { url, prefix } = base(brokerUrl);
  url.pathname = prefix + BrokerPath.client + encodeURIComponent(clientId);
  if (resume.lastSeq !== undefined) url.searchParams.set('lastSeq', String(resume.lastSeq));
  if (resume.epoch !== undefined) url.searchParams.set('epoch', resume.epoch);
  if (acceptedInline) url.searchParams.set(ACCEPTED_QUERY, ACCEPTED_INLINE);
  return url.toString();
}

/** The broker's HTTP base (ws: → http:, wss: → https:), without a trailing slash. */
export function brokerHttpUrl(brokerUrl: string): string {
  const { url, prefix } = base(brokerUrl);
  const http = url.protocol === 'wss:' ? 'https:' : 'http:';
  return `${http}//${url.host}${prefix}`;
}
