/**
 * Security headers for every response. Written by hand rather than with helmet: we need a
 * handful of headers and one policy string, and a literal here is easier to review than helmet's
 * defaults minus overrides.
 */
import type { RequestHandler } from 'express';

/**
 * Only the app's own scripts, never inline ones. Styles may be inline because xterm and three
 * set them at run time. The WebSocket is named in its ws:/wss: form: `'self'` does not cover
 * ws: in every browser.
 */
export function contentSecurityPolicy(publicOrigin: string): string {
  const origin = new URL(publicOrigin);
  const wsOrigin = `${origin.protocol === 'https:' ? 'wss:' : 'ws:'}//${origin.host}`;
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src 'self' ${wsOrigin}`,
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** HSTS for an https PUBLIC_ORIGIN: a year, this host only (subdomains are the operator's call). */
export const HSTS = 'max-age=31536000';

/**
 * The headers every answer carries, Express's and the raw ones written on the socket (refused
 * upgrades and connections), as name/value pairs.
 */
export function baseSecurityHeaders(publicOrigin: string): [string, string][] {
  const headers: [string, string][] = [
    ['Content-Security-Policy', contentSecurityPolicy(publicOrigin)],
    ['X-Content-Type-Options', 'nosniff'],
    ['Referrer-Policy', 'no-referrer'],
    ['X-Frame-Options', 'DENY'],
  ];
  if (new URL(publicOrigin).protocol === 'https:') headers.push(['Strict-Transport-Security', HSTS]);
  return headers;
}

export function securityHeaders(publicOrigin: string): RequestHandler {
  const headers = baseSecurityHeaders(publicOrigin);
  return (_req, res, next) => {
    for (const [name, value] of headers) res.setHeader(name, value);
    next();
  };
}
