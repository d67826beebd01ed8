// `pnpm test`: everything the suite needs on a fresh machine, then vitest.
// Browser tests drive Debian's Chromium (never a downloaded browser): install it when missing
// and we are allowed to; the SPA must be built so the web server has something to serve.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { ROOT } from './lib/settings.mjs';
import { Supervisor } from './lib/supervisor.mjs';

process.chdir(ROOT);
// SIGINT/SIGTERM/SIGHUP stop vitest and every process its tests started (its process group).
const sup = new Supervisor({ name: 'pnpm test', graceMs: 5000 });
sup.handleSignals((signal) => `tests stopped (${signal}).`);
const exited = (child) => new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));

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
  const code = await exited(sup.spawn('pnpm', ['--filter', '@agent-bridge/sploots-app', 'build'], { inherit: true }));
  if (code !== 0) process.exit(code);
}
const report = 'test-artifacts/vitest.json';
// Everything but the slow project unless the caller names projects (CI adds `--project slow`).
const args = process.argv.slice(2);
const named = args.some((a) => a === '--project' || a.startsWith('--project='));
const projects = named ? [] : ['unit', 'integration', 'e2e', 'browser'].flatMap((p) => ['--project', p]);
const status = await exited(
  sup.spawn(
    process.execPath,
    ['node_modules/vitest/vitest.mjs', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...projects, ...args],
    { inherit: true },
  ),
);
// A plain closing line that any CI reader understands.
if (existsSync(report)) {
  const j = JSON.parse(readFileSync(report, 'utf8'));
  const skipped = (j.numPendingTests ?? 0) + (j.numTodoTests ?? 0);
  console.log(`\nvitest: ${j.numPassedTests} passed, ${j.numFailedTests} failed, ${skipped} skipped`);
}
process.exit(status);
