/**
 * The browser tests need `static/` built from the current sources. CI runs `pnpm build` first;
 * locally we build when index.html is missing or older than any app source. The check and the
 * build run together under a lock: several browser test files start at once.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from '@agent-bridge/common';

export function ensureAppBuilt(): void {
  const script = path.join(REPO_ROOT, 'packages', 'sploots-app', 'scripts', 'build-if-stale.mjs');
  execFileSync('flock', ['/tmp/sploots-app-build.lock', process.execPath, script], {
    cwd: REPO_ROOT,
    stdio: 'pipe',
    timeout: 180_000,
  });
}
