// Builds the two packages people install from npm, @agent-bridge/agent-sdk and
// @agent-bridge/browser-client, into packages/<pkg>/dist: one ESM file (esbuild) and .d.ts files
// (the repository's native `tsc`).
//
// In the workspace every package exports its TypeScript source; a published package must not.
// Neither may it depend on @agent-bridge/common, which is never published: the parts of common a
// package uses are bundled into its index.js, and common's declarations are emitted beside its
// own (dist/common/…) with the import specifiers rewritten to point there.
//
// Why esbuild + tsc and not tsup/tsdown: the repository's compiler is TypeScript 7 (native), which
// has no JavaScript API; tsup's and tsdown's declaration bundlers need that API (TypeScript 5) or
// a Node 22 toolchain. esbuild already bundles the services, and `tsc` emits declarations itself.
//
// Usage: node scripts/build-packages.mjs [agent-sdk] [browser-client]   (default: both)
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const commonSrc = path.join(root, 'packages/common/src');

export const PACKAGES = {
  'agent-sdk': {
    platform: 'node',
    // Its package.json "dependencies" stay imports (npm installs them); so do these optional ones,
    // and its optional peers (OpenTelemetry, prom-client), loaded only when the user opts in.
    externalDependencies: true,
    external: ['pino-pretty', 'bufferutil', 'utf-8-validate', '@opentelemetry/*', 'prom-client'],
    // The common modules whose declarations the package's own .d.ts refer to.
    commonTypes: ['protocol/index.ts', 'logger.ts'],
    // Where each common entry point leads in dist/common. The root is used in declarations only
    // for `Logger` (logger.ts); packages/e2e/test/packages.test.ts type-checks the result.
    commonRoot: 'logger.js',
    commonProtocol: 'protocol/index.js',
  },
  'browser-client': {
    platform: 'neutral',
    // Nothing external: dist/index.js must load from a plain <script type="module">, so even its
    // dependencies (they are listed for their types) are bundled in.
    externalDependencies: false,
    external: [],
    // Only `BackoffOptions`: the frame types are the package's own (src/frames.ts), so its
    // declarations need no zod.
    commonTypes: ['protocol/backoff.ts'],
    commonRoot: 'protocol/backoff.js',
    commonProtocol: 'protocol/backoff.js',
  },
};

/**
 * Common is side-effect free; telling esbuild so lets it drop what a package does not use
 * (the browser client would otherwise carry zod and every frame schema).
 */
const commonIsPure = {
  name: 'common-is-pure',
  setup(b) {
    b.onLoad({ filter: /packages[\\/]common[\\/]src[\\/].*\.ts$/ }, (args) => ({
      contents: readFileSync(args.path, 'utf8'),
      loader: 'ts',
    }));
    b.onResolve({ filter: /^@agent-bridge\/common(\/protocol)?$/ }, (args) => ({
      path: path.join(commonSrc, args.path.endsWith('/protocol') ? 'protocol/index.ts' : 'index.ts'),
      sideEffects: false,
    }));
  },
};

function tsconfigFor(files, rootDir, outDir, lib) {
  return {
    extends: path.join(root, 'tsconfig.base.json'),
    compilerOptions: {
      noEmit: false,
      declaration: true,
      emitDeclarationOnly: true,
      rootDir,
      outDir,
      lib,
      types: ['node'],
      typeRoots: [path.join(root, 'node_modules/@types')],
    },
    files,
  };
}

function tsc(pkgDir, name, config) {
  const file = path.join(pkgDir, `tsconfig.dts-${name}-${process.pid}.tmp.json`);
  writeFileSync(file, JSON.stringify(config, null, 2));
  try {
    execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', file], { stdio: 'inherit', cwd: pkgDir });
  } finally {
    rmSync(file, { force: true });
  }
}

function walk(dir) {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

/** `./x.ts` → `./x.js`; `@agent-bridge/common[/protocol]` → the copy in dist/common. */
function rewriteDeclarations(dist, { commonRoot, commonProtocol }) {
  const commonDir = path.join(dist, 'common');
  for (const file of walk(dist).filter((f) => f.endsWith('.d.ts'))) {
    const rel = (target) => {
      const r = path.relative(path.dirname(file), path.join(commonDir, target)).split(path.sep).join('/');
      return r.startsWith('.') ? r : `./${r}`;
    };
    const text = readFileSync(file, 'utf8')
      .replace(/(from\s+|import\()(['"])(\.{1,2}\/[^'"]+)\.ts\2/g, '$1$2$3.js$2')
      .replace(/(['"])@agent-bridge\/common\/protocol\1/g, `$1${rel(commonProtocol)}$1`)
      .replace(/(['"])@agent-bridge\/common\1/g, `$1${rel(commonRoot)}$1`);
    // Only module specifiers count (a doc comment may name the package).
    if (/(from\s+|import\(\s*)['"]@agent-bridge\/common/.test(text)) throw new Error(`${file}: unrewritten @agent-bridge/common import`);
    writeFileSync(file, text);
  }
}

export async function buildPackage(name) {
  const spec = PACKAGES[name];
  if (!spec) throw new Error(`unknown package ${name} (known: ${Object.keys(PACKAGES).join(', ')})`);
  const pkgDir = path.join(root, 'packages', name);
  const final = path.join(pkgDir, 'dist');
  // Built aside and swapped in at the end: tests pack, run and rebuild a package concurrently
  // (pnpm pack's prepack, pnpm dev, examples), and none may see a half-written dist/.
  const dist = path.join(pkgDir, `.dist-${process.pid}.tmp`);
  rmSync(dist, { recursive: true, force: true });
  mkdirSync(dist, { recursive: true });
  const manifest = JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
  const external = [...spec.external, ...(spec.externalDependencies ? Object.keys(manifest.dependencies ?? {}) : [])];

  await build({
    entryPoints: [path.join(pkgDir, 'src/index.ts')],
    outfile: path.join(dist, 'index.js'),
    bundle: true,
    platform: spec.platform,
    format: 'esm',
    target: spec.platform === 'node' ? 'node20' : 'es2022',
    mainFields: ['module', 'main'],
    sourcemap: true,
    logLevel: 'warning',
    external,
    plugins: [commonIsPure],
    legalComments: 'none',
  });

  const lib = spec.platform === 'node' ? ['ES2023'] : ['ES2023', 'DOM', 'DOM.Iterable'];
  tsc(pkgDir, 'own', tsconfigFor([path.join(pkgDir, 'src/index.ts')], path.join(pkgDir, 'src'), dist, lib));
  tsc(
    pkgDir,
    'common',
    tsconfigFor(
      spec.commonTypes.map((f) => path.join(commonSrc, f)),
      commonSrc,
      path.join(dist, 'common'),
      lib,
    ),
  );
  rewriteDeclarations(dist, spec);
  // dist/ as a package of its own, the way the tarball presents it: examples/ links to it
  // (`link:../packages/agent-sdk/dist`) so that plain `node` runs them against the build. The
  // tarball leaves this file out ("files": [..., "!dist/package.json"]).
  const exports = { '.': { types: './index.d.ts', import: './index.js', default: './index.js' } };
  writeFileSync(
    path.join(dist, 'package.json'),
    JSON.stringify({ name: manifest.name, version: manifest.version, private: true, type: 'module', types: './index.d.ts', exports }, null, 2) + '\n',
  );
  const old = path.join(pkgDir, `.dist-${process.pid}.old`);
  rmSync(old, { recursive: true, force: true });
  try {
    renameSync(final, old);
  } catch {
    /* no dist/ yet */
  }
  renameSync(dist, final);
  rmSync(old, { recursive: true, force: true });
  return final;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const names = process.argv.slice(2);
  for (const name of names.length ? names : Object.keys(PACKAGES)) {
    const dist = await buildPackage(name);
    console.log(`built @agent-bridge/${name} → ${path.relative(root, dist)}/`);
  }
}
