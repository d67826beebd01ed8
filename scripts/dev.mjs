// `pnpm dev`: broker + web server + demo agent from source, restarted on change (tsx watch),
// one readable line per log event, the SPA built once and rebuilt on change (vite build --watch),
// the agent SDK built once (for examples/); prints the one URL to open.
//
// Start-up order: the ports are checked first (a busy port is one line and exit 1, before
// anything starts); then the SPA's first build and the broker; the web server once the broker
// listens; the demo agent once the web server listens (so neither warns about a broker that is
// merely not up yet, and the agent never joins another instance's broker). SIGINT, SIGTERM or
// SIGHUP stop every child (scripts/lib/supervisor.mjs) and print one line.
import path from 'node:path';
import { buildPackage } from './build-packages.mjs';
import { busyPortsLine } from './lib/ports.mjs';
import { ROOT, setting } from './lib/settings.mjs';
import { Supervisor, waitForLine } from './lib/supervisor.mjs';
import { SERVICES } from './services.mjs';

const env = { LOG_FORMAT: 'pretty', FORCE_COLOR: '1', ...process.env };
const colours = { broker: 35, web: 36, agent: 33, app: 32 };
const tsxCli = path.join(ROOT, 'node_modules/tsx/dist/cli.mjs');
const viteCli = path.join(ROOT, 'packages/sploots-app/node_modules/vite/bin/vite.js');
const sup = new Supervisor({ name: 'pnpm dev' });
sup.handleSignals((signal) => `Agent Bridge dev stopped (${signal}).`);

/** A child whose lines are shown with a coloured name tag. */
function run(name, args, cwd = ROOT) {
  const tag = `\x1b[${colours[name]}m${name.padEnd(6)}\x1b[0m│ `;
  const onLine = (line) => {
    // vite pads its report with empty lines; they only push the logs apart.
    if (line.replace(/\x1b\[[0-9;]*m/g, '').trim() !== '') process.stdout.write(`${tag}${line}\n`);
  };
  return sup.spawn(process.execPath, args, { cwd, env, onLine });
}

/** A service under tsx watch; resolves once it logs `listening` (or `connected` for the agent). */
function service(name, ready) {
  const child = run(name, [tsxCli, 'watch', '--clear-screen=false', SERVICES[name].entry]);
  return waitForLine(child, ready, /cannot start|EADDRINUSE|Error \[|exiting/i, name).catch((err) => {
    throw new Error(`${name} did not start: ${err.message.replace(/\x1b\[[0-9;]*m/g, '').trim()}`);
  });
}

async function main() {
  const busy = await busyPortsLine(['broker', 'web'], 'pnpm dev');
  if (busy) return sup.fail(busy);

  const staticDir = path.resolve(ROOT, setting('STATIC_ASSETS_PATH'));
  // One build: `vite build --watch` builds once at start, then again on each change.
  const app = run('app', [viteCli, 'build', '--watch', '--outDir', staticDir, '--emptyOutDir'], path.join(ROOT, 'packages/sploots-app'));
  const appBuilt = waitForLine(app, /built in/, /^error|build failed/i, 'the SPA build');
  // The SDK's build, so that `node examples/echo-agent.mjs` works next to `pnpm dev` (~1 s).
  const sdkBuilt = buildPackage('agent-sdk').catch((err) => process.stdout.write(`agent-sdk build failed: ${err.message}\n`));
  await Promise.all([appBuilt, sdkBuilt, service('broker', /listening/)]);
  const webLine = await service('web', /listening/);
  await service('agent', /connected/).catch((err) => {
    // The bridge works without the demo agent; say why it is missing, and go on.
    process.stdout.write(`${err.message}\n`);
  });
  const url = /https?:\/\/[^\s"]+/.exec(webLine.replace(/\x1b\[[0-9;]*m/g, ''))?.[0] ?? `http://${setting('WEB_SERVER_ADDR')}`;
  process.stdout.write(`\n  \x1b[1mAgent Bridge is up: open ${url}\x1b[0m\n\n`);
}

main().catch((err) => sup.fail(`pnpm dev: ${err.message}`));
