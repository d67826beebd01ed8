/**
 * Security headers for every response. Written by hand rather than with helmet: we need exactly
 * four headers and one policy string, and a literal here is easier to review than helmet's
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

export function securityHeaders(publicOrigin: string): RequestHandler {
  const csp = contentSecurityPolicy(publicOrigin);
  return (_req, res, next) => {
    res.setHeader('Content-Security-Policy', csp);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Frame-Options', 'DENY');
    next();
  };
}
