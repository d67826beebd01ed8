// Gzipped size of the JavaScript a first paint needs: the entry script and the chunks index.html
// preloads (its static imports). Lazy chunks (the 3D scene) are listed but not counted.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const LIMIT_KB = 350;
const staticDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../static');
const html = readFileSync(path.join(staticDir, 'index.html'), 'utf8');
if (/<script(?![^>]*\bsrc=)[^>]*>/i.test(html)) {
  console.error('index.html has an inline <script>: the CSP (script-src self) would block it');
  process.exit(1);
}
const firstPaint = new Set();
for (const m of html.matchAll(/<script[^>]+src="([^"]+\.js)"/g)) firstPaint.add(m[1]);
for (const m of html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="([^"]+\.js)"/g)) firstPaint.add(m[1]);
for (const m of html.matchAll(/<link[^>]+href="([^"]+\.js)"[^>]+rel="modulepreload"/g)) firstPaint.add(m[1]);

const gz = (file) => gzipSync(readFileSync(path.join(staticDir, file))).length;
const kb = (n) => (n / 1024).toFixed(1) + ' KB';
let total = 0;
for (const url of firstPaint) {
  const size = gz(url.replace(/^\//, ''));
  total += size;
  console.log(`  first paint  ${url}  ${kb(size)} gzip`);
}
for (const f of readdirSync(path.join(staticDir, 'assets'))) {
  if (f.endsWith('.js') && !firstPaint.has(`/assets/${f}`)) console.log(`  lazy         /assets/${f}  ${kb(gz(`assets/${f}`))} gzip`);
  if (f.endsWith('.css')) console.log(`  css          /assets/${f}  ${kb(gz(`assets/${f}`))} gzip`);
}
console.log(`first-paint JS: ${kb(total)} gzipped (limit ${LIMIT_KB} KB)`);
if (firstPaint.size === 0) {
  console.error('no entry script found in index.html');
  process.exit(1);
}
if (total > LIMIT_KB * 1024) {
  console.error(`first-paint JS is over the ${LIMIT_KB} KB budget`);
  process.exit(1);
}
