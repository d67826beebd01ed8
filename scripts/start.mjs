// `pnpm start [broker] [web] [agent]`: run services from the build (dist/), JSON logs.
// Ports are checked before anything starts (a busy one: one line, exit 1); services start in
// order, each once the one before listens, so the web server and the agent never race the
// broker. If one service dies the others are stopped and its exit code is kept. SIGINT, SIGTERM
// or SIGHUP stop them all (scripts/lib/supervisor.mjs) with one line on stderr.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { busyPortsLine } from './lib/ports.mjs';
import { ROOT } from './lib/settings.mjs';
import { Supervisor, waitForLine } from './lib/supervisor.mjs';
import { SERVICES } from './services.mjs';

const names = Object.keys(SERVICES).filter((n) => process.argv.slice(2).includes(n));
if (names.length === 0) {
  console.error(`usage: start.mjs ${Object.keys(SERVICES).join('|')} …`);
  process.exit(2);
}
const command = names.length === 1 ? `pnpm start:${names[0]}` : 'pnpm start';
const sup = new Supervisor({ name: command });
sup.handleSignals((signal) => `Agent Bridge stopped (${signal}).`);

async function main() {
  const busy = await busyPortsLine(names, command);
  if (busy) return sup.fail(busy);
  for (const n of names) {
    if (!existsSync(path.join(ROOT, SERVICES[n].out))) return sup.fail(`${SERVICES[n].out} is missing: run \`pnpm build\` first`);
  }
  for (const n of names) {
    if (sup.stopping) return;
    const child = sup.spawn(process.execPath, ['--enable-source-maps', SERVICES[n].out], { cwd: ROOT, env: process.env });
    child.on('exit', (code, signal) => {
      // One service gone on its own: stop the rest, keep its exit code.
      if (!sup.stopping) void sup.fail(`${command}: ${n} exited (${code ?? signal}); stopping the others`, code || 1);
    });
    const ready = n === 'agent' ? /connected/ : /listening/;
    await waitForLine(child, ready, null, n).catch(() => undefined); // an early exit is handled above
  }
}

main().catch((err) => sup.fail(`${command}: ${err.message}`));
