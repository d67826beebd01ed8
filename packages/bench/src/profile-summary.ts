/**
 * The top functions of a V8 CPU profile (the `.cpuprofile` that `node --cpu-prof` and the
 * inspector's Profiler write) by self time, with the file they live in.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleSource } from './bundle.ts';
import { REPO_ROOT } from './child.ts';

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }[];
  samples: number[];
  timeDeltas: number[];
}

export interface HotFunction {
  fn: string;
  where: string;
  selfPct: number;
}

/** Self time by function (idle excluded from the total), biggest first. */
export function topFunctions(file: string, n = 12): HotFunction[] {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byNode = new Map(prof.nodes.map((x) => [x.id, x]));
  const self = new Map<string, { fn: string; where: string; us: number }>();
  let total = 0;
  prof.samples.forEach((id, i) => {
    const dt = prof.timeDeltas[i + 1] ?? prof.timeDeltas[i] ?? 0;
    const node = byNode.get(id);
    if (!node || node.callFrame.functionName === '(idle)') return;
    const { functionName } = node.callFrame;
    const { url, line } = origin(node.callFrame);
    const fn = functionName || '(anonymous)';
    const where = url ? (line === undefined ? shorten(url) : `${shorten(url)}:${line}`) : '';
    const key = `${fn} ${where}`;
    const e = self.get(key) ?? { fn, where, us: 0 };
    e.us += dt;
    self.set(key, e);
    total += dt;
  });
  return [...self.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, n)
    .map((e) => ({ fn: e.fn, where: e.where, selfPct: Math.round((1000 * e.us) / (total || 1)) / 10 }));
}

/**
 * A frame's source: in a bench bundle (bundle.ts), the input file its line came from (the line
 * itself is the bundle's, so it is left out); otherwise the URL and 1-based line as V8 gives them.
 */
function origin(frame: { url: string; lineNumber: number }): { url: string; line: number | undefined } {
  if (frame.url.startsWith('file://')) {
    const source = bundleSource(fileURLToPath(frame.url), frame.lineNumber);
    if (source !== undefined) return { url: `file://${path.join(REPO_ROOT, source)}`, line: undefined };
  }
  return { url: frame.url, line: frame.lineNumber + 1 };
}

function shorten(url: string): string {
  const p = url.replace(/^file:\/\//, '');
  const nm = p.lastIndexOf('node_modules/');
  if (nm >= 0) return p.slice(nm + 'node_modules/'.length).replace(/^\.pnpm\/[^/]+\/node_modules\//, '');
  const pk = p.indexOf('/packages/');
  return pk >= 0 ? p.slice(pk + 1) : path.basename(p);
}

/** Self time (idle excluded) by where the code lives: a workspace package, an npm package, node. */
export function byPackage(file: string): Record<string, number> {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byNode = new Map(prof.nodes.map((x) => [x.id, x]));
  const acc = new Map<string, number>();
  let total = 0;
  prof.samples.forEach((id, i) => {
    const node = byNode.get(id);
    if (!node || node.callFrame.functionName === '(idle)') return;
    const dt = prof.timeDeltas[i + 1] ?? prof.timeDeltas[i] ?? 0;
    const { url } = origin(node.callFrame);
    let key: string;
    if (!url) key = node.callFrame.functionName.startsWith('(') ? node.callFrame.functionName : 'native (syscalls, crypto)';
    else if (url.includes('node_modules/')) key = shorten(url).split('/').slice(0, url.includes('/@') ? 2 : 1).join('/');
    else if (url.includes('/packages/')) key = `@agent-bridge/${url.slice(url.indexOf('/packages/') + 10).split('/')[0]}`;
    else key = 'node internals';
    acc.set(key, (acc.get(key) ?? 0) + dt);
    total += dt;
  });
  return Object.fromEntries([...acc].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, Math.round((1000 * v) / (total || 1)) / 10]));
}
