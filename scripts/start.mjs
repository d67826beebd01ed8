// `pnpm start [broker] [web] [agent]`: run services from the build (dist/), JSON logs.
// Signals are forwarded; if one service dies the others are stopped and the exit code is kept.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERVICES } from './services.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const names = process.argv.slice(2).filter((a) => a in SERVICES);
if (names.length === 0) {
  console.error(`usage: start.mjs ${Object.keys(SERVICES).join('|')} …`);
  process.exit(2);
}
for (const n of names) {
  if (!existsSync(path.join(root, SERVICES[n].out))) {
    console.error(`${SERVICES[n].out} is missing: run \`pnpm build\` first`);
    process.exit(1);
  }
}

const children = new Map();
let exitCode = 0;
let stopping = false;
function stopAll(signal) {
  stopping = true;
  for (const c of children.values()) c.kill(signal);
}
for (const n of names) {
  const child = spawn(process.execPath, ['--enable-source-maps', SERVICES[n].out], { cwd: root, stdio: 'inherit' });
  children.set(n, child);
  child.on('exit', (code, signal) => {
    children.delete(n);
    if (code) exitCode = code;
    if (!stopping && (code || signal)) stopAll('SIGTERM');
    if (children.size === 0) process.exit(exitCode);
  });
}
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => stopAll(sig));
