/**
 * Every process the bench starts runs as it ships: its entry (with the probe and any
 * BENCH_PRELOAD modules imported first, in that order, as `--import` would) bundled into one ESM
 * file with the options `pnpm build` uses for dist/ (scripts/lib/node-bundle.mjs), run by plain
 * Node. Until 2026-11-26 the bench ran the TypeScript sources through tsx, whose keepNames
 * redefines `name` on every function it creates: each closure then carried a ~250-byte property
 * dictionary and a defineProperty per creation — ~4 KB of heap per idle client in the broker and
 * ~3 KB in the web server that `pnpm start` never has, and CPU in every hot path that makes a
 * closure (docs/performance.md, "What the bench runs"). BENCH_SOURCE=1 runs the sources through
 * tsx as before (profiles then name TypeScript lines).
 *
 * Bundles go to node_modules/.cache/agent-bridge-bench (so that `bufferutil` and the other
 * externals resolve from the repository), one per entry and preload list, rebuilt once per bench
 * process (a run always measures the working tree) and removed when it exits.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import { NODE_BUNDLE_OPTIONS } from '../../../scripts/lib/node-bundle.mjs';

/** Run the TypeScript sources through tsx instead of the bundles (readable profiles). */
export const FROM_SOURCE = process.env.BENCH_SOURCE === '1';

const built = new Map<string, string>();
/** Per bundle file: the lines where esbuild marked an input file's start, and that file. */
const marksOf = new Map<string, [number, string][]>();
let cleanup = false;

/** The bundle of `entry` with `preloads` evaluated first (absolute paths, file URLs or package names). */
export function bundled(repoRoot: string, entry: string, preloads: readonly string[]): string {
  const modules = [...preloads, entry].map((m) => (m.startsWith('file:') ? fileURLToPath(m) : m));
  const key = modules.join('\n');
  const known = built.get(key);
  if (known) return known;
  const dir = path.join(repoRoot, 'node_modules', '.cache', 'agent-bridge-bench');
  mkdirSync(dir, { recursive: true });
  const hash = createHash('sha1').update(key).digest('hex').slice(0, 10);
  const out = path.join(dir, `${path.basename(entry).replace(/\.[cm]?[jt]s$/, '')}-${hash}-${process.pid}.mjs`);
  buildSync({
    ...NODE_BUNDLE_OPTIONS,
    stdin: { contents: modules.map((m) => `import ${JSON.stringify(m)};`).join('\n'), resolveDir: repoRoot, sourcefile: 'bench-entry.ts', loader: 'ts' },
    outfile: out,
  });
  built.set(key, out);
  if (!cleanup) {
    cleanup = true;
    process.once('exit', () => {
      for (const file of built.values()) rmSync(file, { force: true });
    });
  }
  return out;
}

/**
 * Where a position in a bench bundle came from: esbuild marks the start of each input file in a
 * bundle with a `// <path>` comment line; a line belongs to the last file marked before it.
 * Returns the repository-relative path, or undefined for a file that is not a bench bundle.
 */
export function bundleSource(file: string, line: number): string | undefined {
  if (!file.includes(`${path.sep}agent-bridge-bench${path.sep}`)) return undefined;
  let marks = marksOf.get(file);
  if (!marks) {
    marks = [];
    try {
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((text, i) => {
          const m = /^\/\/ ((?:packages|node_modules)\/\S+)$/.exec(text);
          if (m) marks!.push([i, m[1]!]);
        });
    } catch {
      // removed already: no attribution
    }
    marksOf.set(file, marks);
  }
  let lo = 0;
  let hi = marks.length - 1;
  let found: string | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (marks[mid]![0] <= line) {
      found = marks[mid]![1];
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

