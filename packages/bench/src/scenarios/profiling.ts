/**
 * `--profile`: the V8 sampler in each server process over a scenario's measured window, written
 * as `<target>-<process>-<scenario>[-r<round>].cpuprofile`, with the top functions in the notes.
 */
import path from 'node:path';
import type { Child } from '../child.ts';
import { byPackage, topFunctions } from '../profile-summary.ts';
import type { ScenarioContext } from './types.ts';

export async function startProfiles(children: Child[]): Promise<void> {
  await Promise.all(children.map((c) => c.call('probe.profileStart')));
}

export async function stopProfiles(ctx: ScenarioContext, children: Child[], scenario: string, notes: string[]): Promise<void> {
  const suffix = ctx.round !== undefined && ctx.round > 1 ? `-r${ctx.round}` : '';
  for (const c of children) {
    const file = path.resolve(ctx.opts.outDir, `${ctx.topo.name}-${c.spec.name}-${scenario}${suffix}.cpuprofile`);
    await c.call('probe.profileStop', { path: file }, 60_000);
    notes.push(`CPU profile: ${file}`);
    const top = topFunctions(file, 10);
    notes.push(`${c.spec.name} top self time (% of busy): ${top.map((t) => `${t.fn} (${t.where}) ${t.selfPct}%`).join('; ')}`);
    notes.push(`${c.spec.name} self time by package (% of busy): ${Object.entries(byPackage(file)).map(([k, v]) => `${k} ${v}%`).join('; ')}`);
  }
}
