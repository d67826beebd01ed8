// `pnpm dev`: broker + web server + demo agent from source, restarted on change (tsx watch),
// readable logs, the SPA rebuilt on change; prints the one URL to open.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERVICES } from './services.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const env = { LOG_FORMAT: 'pretty', ...process.env };
const colours = { broker: 35, web: 36, agent: 33, app: 32 };
const children = [];

function run(name, cmd, args) {
  const child = spawn(cmd, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const tag = `\x1b[${colours[name]}m${name.padEnd(6)}\x1b[0m│ `;
  for (const stream of [child.stdout, child.stderr]) {
    let buf = '';
    stream.on('data', (d) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        process.stdout.write(tag + line + '\n');
        if (name === 'web' && /listening/.test(line)) {
          const m = /https?:\/\/[^\s"]+/.exec(line);
          if (m) process.stdout.write(`\n  \x1b[1mAgent Bridge is up: open ${m[0]}\x1b[0m\n\n`);
        }
      }
    });
  }
  children.push(child);
  return child;
}

const tsxCli = path.join(root, 'node_modules/tsx/dist/cli.mjs');
async function main() {
  if (existsSync(path.join(root, 'packages/sploots-app/package.json'))) {
    // One full build first so the page exists when the web server starts, then watch.
    await new Promise((resolve, reject) => {
      const b = run('app', 'pnpm', ['--filter', '@agent-bridge/sploots-app', 'build']);
      b.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`app build failed (${code})`))));
    });
    run('app', 'pnpm', ['--filter', '@agent-bridge/sploots-app', 'dev']);
  }
  run('broker', process.execPath, [tsxCli, 'watch', '--clear-screen=false', SERVICES.broker.entry]);
  run('web', process.execPath, [tsxCli, 'watch', '--clear-screen=false', SERVICES.web.entry]);
  run('agent', process.execPath, [tsxCli, 'watch', '--clear-screen=false', SERVICES.agent.entry]);
}
function stop() {
  for (const c of children) c.kill('SIGTERM');
  setTimeout(() => process.exit(0), 3000).unref();
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
main().catch((err) => {
  console.error(err.message);
  stop();
  process.exitCode = 1;
});
