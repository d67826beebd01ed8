/** The SPA: files, MIME types, cache headers, compression, client-side routes, 404s, traversal. */
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebServer } from '../src/index.ts';
import { APP_JS, INDEX_HTML, STYLE_CSS, makeSite, rawRequest, startWeb, type TempSite } from './helpers.ts';

let site: TempSite;
let web: WebServer;

beforeAll(async () => {
  site = makeSite();
  web = await startWeb({ STATIC_ASSETS_PATH: site.root });
});
afterAll(async () => {
  await web?.close();
  site?.remove();
});

describe('files', () => {
  it('serves hashed assets with their MIME type and a one-year immutable cache', async () => {
    const res = await rawRequest(web.url, '/assets/app-abc123.js');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/javascript/);
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(res.text).toBe(APP_JS);
  });

  it('serves other files with a short cache', async () => {
    const res = await rawRequest(web.url, '/style.css');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/css/);
    expect(res.headers['cache-control']).toBe('public, max-age=300');
    expect(res.text).toBe(STYLE_CSS);
  });

  it('serves /index.html itself with no-cache', async () => {
    const res = await rawRequest(web.url, '/index.html');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['cache-control']).toBe('no-cache');
  });

  it('compresses with brotli when the client accepts it, and prefers it over gzip', async () => {
    for (const accept of ['br', 'gzip, deflate, br']) {
      const res = await rawRequest(web.url, '/assets/app-abc123.js', { headers: { 'accept-encoding': accept } });
      expect(res.headers['content-encoding'], accept).toBe('br');
      expect(res.headers.vary).toMatch(/accept-encoding/i);
      expect(brotliDecompressSync(res.body).toString()).toBe(APP_JS);
    }
  });

  it('compresses with gzip when that is what the client accepts', async () => {
    const res = await rawRequest(web.url, '/style.css', { headers: { 'accept-encoding': 'gzip' } });
    expect(res.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(res.body).toString()).toBe(STYLE_CSS);
  });

  it('sends identity when the client accepts no encoding', async () => {
    const res = await rawRequest(web.url, '/style.css');
    expect(res.headers['content-encoding']).toBeUndefined();
  });

  it('answers a missing file (a path with an extension) with a real 404 JSON, never index.html', async () => {
    for (const p of ['/assets/app-missing.js', '/missing.css', '/favicon.ico', '/deep/path/file.map', '/.env']) {
      const res = await rawRequest(web.url, p, { headers: { accept: 'text/html' } });
      expect(res.status, p).toBe(404);
      expect(res.headers['content-type'], p).toMatch(/application\/json/);
      expect(res.json()).toEqual({ error: { code: 'not_found', message: expect.any(String) } });
    }
  });
});

describe('client-side routes', () => {
  it('serves index.html with no-cache for / and every extensionless path, whatever Accept says', async () => {
    for (const [p, accept] of [
      ['/', 'text/html'],
      ['/chat', 'application/json'],
      ['/deep/route/here', '*/*'],
      ['/assets', 'text/html'],
      ['/apifoo', 'text/html'],
      ['/chat?x=1', 'image/png'],
    ] as const) {
      const res = await rawRequest(web.url, p, { headers: { accept } });
      expect(res.status, p).toBe(200);
      expect(res.headers['content-type'], p).toMatch(/^text\/html/);
      expect(res.headers['cache-control'], p).toBe('no-cache');
      expect(res.text, p).toBe(INDEX_HTML);
    }
  });

  it('answers HEAD like GET without a body', async () => {
    const res = await rawRequest(web.url, '/some/route', { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.body.length).toBe(0);
  });

  it('does not fall back for other methods, nor under /api, /auth, /ws', async () => {
    expect((await rawRequest(web.url, '/chat', { method: 'POST' })).status).toBe(404);
    expect((await rawRequest(web.url, '/api/whatever')).status).toBe(404);
    expect((await rawRequest(web.url, '/auth/whatever')).status).toBe(404);
    expect((await rawRequest(web.url, '/ws/whatever')).status).toBe(426);
  });
});

describe('path traversal', () => {
  it.each([
    '/../package.json',
    '/assets/../../package.json',
    '/%2e%2e/package.json',
    '/%2E%2E/%2E%2E/package.json',
    '/..%2fpackage.json',
    '/assets%2f..%2f..%2fpackage.json',
    '/..%5c..%5cpackage.json',
    '/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
    '/assets/%00.js',
    '/%E0%A4%A.js',
    '/assets/..%2f..%2fsecret.js',
    '/assets/%2e%2e/%2e%2e/secret.js',
  ])('refuses %s with 400 or 404 and never a file outside the root', async (p) => {
    const res = await rawRequest(web.url, p);
    expect([400, 404]).toContain(res.status);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.text).not.toMatch(/OUTSIDE-SECRET|root:/);
  });
});

describe('a missing STATIC_ASSETS_PATH or index.html', () => {
  it('answers 404 with a clear message instead of crashing', async () => {
    const empty = makeSite({ index: false });
    const noIndex = await startWeb({ STATIC_ASSETS_PATH: empty.root });
    const noRoot = await startWeb({ STATIC_ASSETS_PATH: `${empty.root}/does-not-exist` });
    try {
      for (const server of [noIndex, noRoot]) {
        const res = await rawRequest(server.url, '/chat');
        expect(res.status).toBe(404);
        expect(res.json()).toEqual({ error: { code: 'not_found', message: expect.stringMatching(/index\.html/) } });
        expect(res.headers['cache-control']).not.toBe('no-cache');
        expect((await rawRequest(server.url, '/healthz')).status).toBe(200);
      }
    } finally {
      await noIndex.close();
      await noRoot.close();
      empty.remove();
    }
  });
});
