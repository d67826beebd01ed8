/**
 * The SPA: files from STATIC_ROOT with cache headers by kind, and index.html for client-side
 * routes. A path with an extension that names no file is a real 404 (a missing script must not
 * come back as HTML), and nothing outside STATIC_ROOT is ever served.
 */
import path from 'node:path';
import express, { Router, type RequestHandler, type Response } from 'express';
import { sendError } from './errors.ts';

/** Vite puts content-hashed files here: their URL changes whenever their bytes do. */
const HASHED_DIR = 'assets';
export const CACHE_IMMUTABLE = 'public, max-age=31536000, immutable';
export const CACHE_REVALIDATE = 'no-cache';
export const CACHE_SHORT = 'public, max-age=300';

/** Last segment ends in `.ext` (dotfiles count too: `/.env` is a file, not a route). */
const HAS_EXTENSION = /\.[^/.]+$/;
/** Encoded `/` or `\` could smuggle a separator past the router. */
const ENCODED_SEPARATOR = /%2f|%5c/i;

export function cacheControlFor(root: string, file: string): string {
  const rel = path.relative(root, file);
  if (rel.endsWith('.html')) return CACHE_REVALIDATE;
  if (rel.startsWith(HASHED_DIR + path.sep)) return CACHE_IMMUTABLE;
  return CACHE_SHORT;
}

/** 400 for a path that tries to leave the root, before any file system lookup. */
const rejectTraversal: RequestHandler = (req, res, next) => {
  let decoded: string;
  try {
    decoded = decodeURIComponent(req.path);
  } catch {
    return sendError(res, 400, 'bad_request', 'the path is not valid percent-encoding');
  }
  if (ENCODED_SEPARATOR.test(req.path) || decoded.includes('\0') || decoded.split(/[\\/]/).includes('..')) {
    return sendError(res, 400, 'bad_request', 'the path is not allowed');
  }
  next();
};

export function staticSite(root: string): Router {
  const router = Router();
  const indexFile = path.join(root, 'index.html');
  router.use(rejectTraversal);
  router.use(
    // Express 5's own static middleware (it is serve-static 2, which express already depends on).
    express.static(root, {
      index: false,
      redirect: false,
      dotfiles: 'ignore',
      fallthrough: true,
      setHeaders: (res, file) => res.setHeader('Cache-Control', cacheControlFor(root, file)),
    }),
  );
  // Client-side routes: index.html whatever the Accept header says.
  router.use((req, res, next) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || HAS_EXTENSION.test(req.path)) return next();
    sendIndex(res, indexFile);
  });
  router.use((_req, res) => sendError(res, 404, 'not_found', 'no such file'));
  return router;
}

function sendIndex(res: Response, indexFile: string): void {
  res.setHeader('Cache-Control', CACHE_REVALIDATE);
  res.sendFile(indexFile, { cacheControl: false, dotfiles: 'allow' }, (err) => {
    if (!err || res.headersSent) return;
    res.removeHeader('Cache-Control');
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || (err as { status?: number }).status === 404) {
      return sendError(res, 404, 'not_found', 'the web app is not installed: index.html is missing from STATIC_ASSETS_PATH');
    }
    // A request aborted mid-file needs no answer.
    if (code === 'ECONNABORTED' || code === 'ECONNRESET') return;
    sendError(res, 500, 'internal', 'could not read index.html');
  });
}
