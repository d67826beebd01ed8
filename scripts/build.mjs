// `pnpm build`: the SPA into static/ (Vite), then each service bundled into one ESM file in
// dist/ with esbuild, so `pnpm start` runs plain Node with no TypeScript loader, then the two
// npm packages (agent-sdk, browser-client) into packages/<pkg>/dist (scripts/build-packages.mjs).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { buildPackage, PACKAGES } from './build-packages.mjs';
import { SERVICES } from './services.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);

if (existsSync('packages/sploots-app/package.json')) {
  execFileSync('pnpm', ['--filter', '@agent-bridge/sploots-app', 'build'], { stdio: 'inherit' });
}

for (const [name, svc] of Object.entries(SERVICES)) {
  await build({
    entryPoints: [svc.entry],
    outfile: svc.out,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: true,
    logLevel: 'warning',
    // ws's optional native speed-ups and pino's worker transports are resolved at run time.
    external: ['bufferutil', 'utf-8-validate', 'pino-pretty'],
    // CommonJS dependencies inside an ESM bundle need require, __filename and __dirname.
    banner: {
      js: [
        "import { createRequire as __cr } from 'node:module';",
        "import { fileURLToPath as __fu } from 'node:url';",
        "import { dirname as __dn } from 'node:path';",
        'const require = __cr(import.meta.url);',
        'const __filename = __fu(import.meta.url);',
        'const __dirname = __dn(__filename);',
      ].join('\n'),
    },
    define: { 'process.env.AGENT_BRIDGE_BUNDLED': '"1"' },
  });
  console.log(`built ${name} → ${svc.out}`);
}

for (const name of Object.keys(PACKAGES)) {
  const dist = await buildPackage(name);
  console.log(`built @agent-bridge/${name} → ${path.relative(root, dist)}/`);
}
