/** Where the broker lives, derived once from BROKER_URL (ws:// or wss://, maybe with a path prefix). */
import { BrokerPath } from '@agent-bridge/common';

function base(brokerUrl: string): URL {
  const url = new URL(brokerUrl);
  url.pathname = url.pathname.replace(/\/+$/, '');
  url.search = '';
  url.hash = '';
  return url;
}

/** `ws://broker/ws/client/<id>?lastSeq=N&epoch=E` */
export function clientUpstreamUrl(brokerUrl: string, clientId: string, resume: { lastSeq?: number; epoch?: string }): string {
  const url = base(brokerUrl);
  url.pathname += BrokerPath.client + encodeURIComponent(clientId);
  if (resume.lastSeq !== undefined) url.searchParams.set('lastSeq', String(resume.lastSeq));
  if (resume.epoch !== undefined) url.searchParams.set('epoch', resume.epoch);
  return url.toString();
}

/** The broker's HTTP base (ws: → http:, wss: → https:), without a trailing slash. */
export function brokerHttpUrl(brokerUrl: string): string {
  const url = base(brokerUrl);
  const http = url.protocol === 'wss:' ? 'https:' : 'http:';
  return `${http}//${url.host}${url.pathname}`;
}
