import type { ProcessMetrics } from '../measure.ts';
import type { BenchOptions, ScenarioName } from '../options.ts';
import type { Topology } from '../targets/index.ts';

export type MetricValue = number | boolean | string | null | Record<string, number>;

export interface ScenarioResult {
  scenario: ScenarioName;
  params: Record<string, unknown>;
  metrics: Record<string, MetricValue>;
  /** Per process: CPU time, CPU per operation, peak RSS (and memory per client for idle). */
  processes: Record<string, ProcessMetrics>;
  notes: string[];
}

export interface ScenarioContext {
  topo: Topology;
  opts: BenchOptions;
  log: (msg: string) => void;
  /** 1-based round of this scenario (`--repeat`); profiles of later rounds get its number in their name. */
  round?: number;
}

export type Scenario = (ctx: ScenarioContext) => Promise<ScenarioResult>;
