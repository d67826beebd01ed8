// Build the SPA unless static/index.html is newer than every app source. Run under a lock by the
// browser tests (test/build-once.ts), so the second test file to get the lock sees a fresh build
// and does not empty static/ under the first one's feet.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const app = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const root = path.resolve(app, '../..');

function newestMtime(p) {
  if (!existsSync(p)) return 0;
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const name of readdirSync(p)) newest = Math.max(newest, newestMtime(path.join(p, name)));
  return newest;
}

const index = path.join(root, 'static', 'index.html');
const sources = [
  path.join(app, 'src'),
  path.join(app, 'index.html'),
  path.join(app, 'vite.config.ts'),
  path.join(root, 'packages', 'browser-client', 'src'),
  path.join(root, 'packages', 'common', 'src', 'protocol'),
];
const newest = Math.max(...sources.map(newestMtime));
if (existsSync(index) && statSync(index).mtimeMs >= newest) process.exit(0);
execFileSync('pnpm', ['--filter', '@agent-bridge/sploots-app', 'build'], { cwd: root, stdio: 'inherit' });
