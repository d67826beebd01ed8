/** `pnpm bench [--quick] …`: see options.ts for the flags. */
import { parseArgs } from './options.ts';
import { humanSummary } from './report.ts';
import { runBench } from './run.ts';

const opts = parseArgs(process.argv.slice(2));
if ('help' in opts) {
  process.stderr.write(`${opts.help}\n`);
  process.exit(opts.help.startsWith('pnpm bench') ? 0 : 2);
}
const t0 = performance.now();
const run = await runBench(opts);
process.stdout.write(`\n${run.markdown}\n\n${humanSummary(run.lines)}\n\n`);
process.stderr.write(`results: ${run.jsonlFile} (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
for (const e of run.errors) process.stderr.write(`error: ${e}\n`);
process.exit(run.errors.length ? 1 : 0);
