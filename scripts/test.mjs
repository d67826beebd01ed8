// `pnpm test`: vitest over the projects, after building the SPA when missing (the web server
// must have something to serve). Browser tests drive Debian's Chromium (never a downloaded
// browser); installing it is not this script's job (.ci/run does, the README says how): when it
// is missing and browser tests are selected, we say so in one line and exit 1.
import { existsSync, readFileSync } from 'node:fs';
import { ROOT } from './lib/settings.mjs';
import { Supervisor } from './lib/supervisor.mjs';

process.chdir(ROOT);
// SIGINT/SIGTERM/SIGHUP stop vitest and every process its tests started (its process group).
const sup = new Supervisor({ name: 'pnpm test', graceMs: 5000 });
sup.handleSignals((signal) => `tests stopped (${signal}).`);
const exited = (child) => new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));

const report = 'test-artifacts/vitest.json';
// Everything but the slow project unless the caller names projects (CI adds `--project slow`).
const args = process.argv.slice(2);
const named = args.some((a) => a === '--project' || a.startsWith('--project='));
const projects = named ? [] : ['unit', 'integration', 'e2e', 'browser'].flatMap((p) => ['--project', p]);
if (browserTestsSelected(args, named) && !existsSync('/usr/bin/chromium')) {
  console.error('browser tests need /usr/bin/chromium: run `apt-get install -y chromium` (as root) first, or leave them out (--project unit …)');
  process.exit(1);
}
if (existsSync('packages/sploots-app/package.json') && !existsSync('static/index.html')) {
  const code = await exited(sup.spawn('pnpm', ['--filter', '@agent-bridge/sploots-app', 'build'], { inherit: true }));
  if (code !== 0) process.exit(code);
}
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

/**
 * Whether this run includes browser tests: the browser project is in (by default, or named), and
 * no path filter is given unless one could match a browser test file.
 */
function browserTestsSelected(argv, projectsNamed) {
  const inProjects = projectsNamed
    ? argv.some((a, i) => a === '--project=browser' || (a === '--project' && argv[i + 1] === 'browser'))
    : true;
  if (!inProjects) return false;
  const paths = argv.filter((a) => !a.startsWith('-') && (a.includes('/') || a.endsWith('.ts')));
  return paths.length === 0 || paths.some((p) => p.includes('sploots-app') || p.includes('.browser') || 'packages/sploots-app/test/'.startsWith(p));
}
