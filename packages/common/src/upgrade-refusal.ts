/**
 * The one way a WebSocket upgrade is refused, by the broker and the web server alike: a plain
 * HTTP answer written on the raw socket (it never passes through Express), with our JSON error
 * body and the headers every error answer carries; then the socket is closed. A refused peer
 * never gets a socket.
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { HttpErrorCode } from './protocol/codes.ts';
import { httpError } from './protocol/http.ts';

export type HeaderPair = readonly [name: string, value: string];

/**
 * `extraHeaders`: what this service adds to every answer (the web server's security headers:
 * CSP, frame options, HSTS, …). A header already written here is not written twice.
 */
export function refuseUpgrade(
  socket: Duplex,
  status: number,
  code: HttpErrorCode,
  message: string,
  extraHeaders: readonly HeaderPair[] = [],
): void {
  const body = JSON.stringify(httpError(code, message));
  const head: HeaderPair[] = [
    ['Content-Type', 'application/json; charset=utf-8'],
    ['Content-Length', String(Buffer.byteLength(body))],
    ['Cache-Control', 'no-store'],
    ['X-Content-Type-Options', 'nosniff'],
    ['Connection', 'close'],
  ];
  if (status === 401) head.push(['WWW-Authenticate', 'Bearer']);
  if (status === 429) head.push(['Retry-After', '5']);
  const written = new Set(head.map(([name]) => name.toLowerCase()));
  for (const pair of extraHeaders) if (!written.has(pair[0].toLowerCase())) head.push(pair);
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  // As ws does for its own refusals: do not wait for the peer to close its side.
  socket.once('finish', () => socket.destroy());
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n${head.map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n${body}`);
}
