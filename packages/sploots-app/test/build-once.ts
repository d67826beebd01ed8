/**
 * The browser tests need `static/` built from the current sources. CI runs `pnpm build` first;
 * locally we build here when index.html is missing or older than any app source.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '@agent-bridge/common';

function newestMtime(p: string): number {
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const name of readdirSync(p)) newest = Math.max(newest, newestMtime(path.join(p, name)));
  return newest;
}

export function ensureAppBuilt(): void {
  const index = path.join(REPO_ROOT, 'static', 'index.html');
  const app = path.join(REPO_ROOT, 'packages', 'sploots-app');
  const sources = [
    path.join(app, 'src'),
    path.join(app, 'index.html'),
    path.join(app, 'vite.config.ts'),
    path.join(REPO_ROOT, 'packages', 'browser-client', 'src'),
  ];
  if (existsSync(index) && statSync(index).mtimeMs >= Math.max(...sources.map(newestMtime))) return;
  // flock: another test file (or a developer's watch build) may be building at the same time.
  execFileSync('flock', ['/tmp/sploots-app-build.lock', 'pnpm', '--filter', '@agent-bridge/sploots-app', 'build'], {
    cwd: REPO_ROOT,
    stdio: 'pipe',
    timeout: 120_000,
  });
}
