export { runBench, type BenchRun } from './run.ts';
export { parseArgs, presetOptions, SCENARIOS, type BenchOptions, type ScenarioName } from './options.ts';
export { TARGETS, type TargetName } from './targets/index.ts';
export { markdownTable, type ResultLine } from './report.ts';
