// `pnpm build`: the SPA into static/ (Vite), then each service bundled into one ESM file in
// dist/ with esbuild, so `pnpm start` runs plain Node with no TypeScript loader, then the two
// npm packages (agent-sdk, browser-client) into packages/<pkg>/dist (scripts/build-packages.mjs).
//
// `node scripts/build.mjs services` (or `spa`, `packages`) builds only those parts.
// SIGINT/SIGTERM/SIGHUP stop the SPA build too (scripts/lib/supervisor.mjs).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { buildPackage, PACKAGES } from './build-packages.mjs';
import { NODE_BUNDLE_OPTIONS } from './lib/node-bundle.mjs';
import { ROOT } from './lib/settings.mjs';
import { Supervisor } from './lib/supervisor.mjs';
import { SERVICES } from './services.mjs';

process.chdir(ROOT);
const PARTS = ['spa', 'services', 'packages'];
const asked = process.argv.slice(2).filter((a) => PARTS.includes(a));
const parts = asked.length ? asked : PARTS;
const sup = new Supervisor({ name: 'pnpm build' });
sup.handleSignals((signal) => `build stopped (${signal}).`);

async function buildSpa() {
  if (!existsSync('packages/sploots-app/package.json')) return;
  const child = sup.spawn('pnpm', ['--filter', '@agent-bridge/sploots-app', 'build'], { cwd: ROOT, env: process.env });
  const code = await new Promise((resolve) => child.on('exit', (c) => resolve(c)));
  if (code !== 0) await sup.fail(`pnpm build: the SPA build failed (${code})`);
}

async function buildServices() {
  for (const [name, svc] of Object.entries(SERVICES)) {
    await build({
      ...NODE_BUNDLE_OPTIONS,
      entryPoints: [svc.entry],
      outfile: svc.out,
      sourcemap: true,
    });
    console.log(`built ${name} → ${svc.out}`);
  }
}

async function buildPackages() {
  for (const name of Object.keys(PACKAGES)) {
    const dist = await buildPackage(name);
    console.log(`built @agent-bridge/${name} → ${path.relative(ROOT, dist)}/`);
  }
}

if (parts.includes('spa')) await buildSpa();
if (parts.includes('services')) await buildServices();
if (parts.includes('packages')) await buildPackages();
process.exit(0);
