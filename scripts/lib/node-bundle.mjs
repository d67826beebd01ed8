// How a Node process of this repository is bundled into one ESM file with esbuild: the services
// `pnpm build` writes to dist/ (scripts/build.mjs) and every process `pnpm bench` starts
// (packages/bench/src/bundle.ts), so the benchmark measures the code as it ships — not the
// TypeScript loader's output, whose keepNames wraps every closure in a `name` redefinition that
// puts each one in dictionary mode (~250 bytes of heap per closure, a defineProperty per creation).
export const NODE_BUNDLE_OPTIONS = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
  // ws's optional native speed-ups are resolved at run time, from the bundle's directory upwards
  // (bufferutil is a root dependency for that: test/ws-native.test.ts); pino-pretty is bundled (it
  // runs as a stream in the process, common/src/pretty.ts, so LOG_FORMAT=pretty works from dist/).
  external: ['bufferutil', 'utf-8-validate'],
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
};
