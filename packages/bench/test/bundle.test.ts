/**
 * The bench runs its processes from bundles built as `pnpm build` builds the services (bundle.ts):
 * the bundle runs with plain Node, with no `name` redefinition on its functions (tsx's keepNames,
 * which the bench measured until 2026-11-26), the preloads evaluated before the entry, and
 * profiles can name the input file a bundle line came from.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundled, bundleSource } from '../src/bundle.ts';
import { REPO_ROOT } from '../src/child.ts';

describe('bench bundles', () => {
  it('run the workspace TypeScript with plain node, preloads first, closures without a redefined name', () => {
    const entry = path.join(REPO_ROOT, 'packages/bench/test/fixtures/bundle-entry.ts');
    const pre = path.join(REPO_ROOT, 'packages/bench/test/fixtures/bundle-preload.ts');
    const file = bundled(REPO_ROOT, entry, [pre]);
    expect(bundled(REPO_ROOT, entry, [pre])).toBe(file); // built once per bench process
    const out = JSON.parse(execFileSync(process.execPath, ['--allow-natives-syntax', file], { encoding: 'utf8' }));
    // The preload ran first; the entry reached workspace code (common's frame types).
    expect(out.order).toEqual(['preload', 'entry']);
    expect(out.messageType).toBe('message');
    // A closure keeps fast properties in the bundle; the same source through tsx does not.
    expect(out.fast).toBe(true);
    expect(readFileSync(file, 'utf8')).not.toContain('__name(');
    const viaTsx = JSON.parse(
      execFileSync(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', '--import', pre, entry], { cwd: REPO_ROOT, encoding: 'utf8' }),
    );
    expect(viaTsx.fast).toBe(false);
    // Attribution: a line of the fixture's code maps back to the fixture.
    const lines = readFileSync(file, 'utf8').split('\n');
    const at = lines.findIndex((l) => l.includes('BUNDLE_ENTRY_MARK'));
    expect(at).toBeGreaterThan(0);
    expect(bundleSource(file, at)).toBe('packages/bench/test/fixtures/bundle-entry.ts');
    expect(bundleSource('/elsewhere/x.mjs', 3)).toBeUndefined();
  });
});
