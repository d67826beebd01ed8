// `pnpm test`: everything the suite needs on a fresh machine, then vitest.
// Browser tests drive Debian's Chromium (never a downloaded browser): install it when missing
// and we are allowed to; the SPA must be built so the web server has something to serve.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);

if (!existsSync('/usr/bin/chromium')) {
  if (process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
    console.log('installing Debian chromium for the browser tests …');
    execFileSync('bash', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null'], { stdio: 'inherit' });
  } else {
    console.error('browser tests need /usr/bin/chromium: run `sudo apt-get install -y chromium` first');
    process.exit(1);
  }
}
if (existsSync('packages/sploots-app/package.json') && !existsSync('static/index.html')) {
  execFileSync('pnpm', ['--filter', '@agent-bridge/sploots-app', 'build'], { stdio: 'inherit' });
}
const report = 'test-artifacts/vitest.json';
const r = spawnSync(
  process.execPath,
  ['node_modules/vitest/vitest.mjs', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)],
  { stdio: 'inherit' },
);
// A plain closing line that any CI reader understands.
if (existsSync(report)) {
  const j = JSON.parse(readFileSync(report, 'utf8'));
  const skipped = (j.numPendingTests ?? 0) + (j.numTodoTests ?? 0);
  console.log(`\nvitest: ${j.numPassedTests} passed, ${j.numFailedTests} failed, ${skipped} skipped`);
}
process.exit(r.status ?? 1);
