/**
 * Registers the catalog's families of one service on a prom-client Registry and returns typed
 * handles (`m.framesIn.inc({ kind: 'agent', type: 'send' })`). One call per process (per service
 * instance in tests, which run several brokers in one process: each gets its own Registry).
 *
 * Imported as `@agent-bridge/common/metrics`, not from the package root: the agent SDK and the
 * browser import the root and must not load prom-client.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics, type Histogram } from 'prom-client';
import {
  LabelBound,
  METRIC_PREFIX,
  METRICS,
  familiesOf,
  type MetricKey,
  type MetricService,
  type MetricSpec,
  type MetricsCatalog,
} from './metrics-catalog.ts';
import { FastCounter, FastHistogram } from './metrics-fast.ts';

export * from './metrics-catalog.ts';

type LabelsOf<K extends MetricKey> = MetricsCatalog[K]['labels'][number];
type HandleOf<K extends MetricKey> = MetricsCatalog[K]['type'] extends 'counter'
  ? Counter<LabelsOf<K>>
  : MetricsCatalog[K]['type'] extends 'gauge'
    ? Gauge<LabelsOf<K>>
    : Histogram<LabelsOf<K>>;

/** Keys of the families service S exports. */
export type KeysOf<S extends MetricService> = {
  [K in MetricKey]: S extends MetricsCatalog[K]['services'][number] ? K : never;
}[MetricKey];
type GaugeKeysOf<S extends MetricService> = {
  [K in KeysOf<S>]: MetricsCatalog[K]['type'] extends 'gauge' ? K : never;
}[KeysOf<S>];

export type ServiceMetrics<S extends MetricService> = { readonly [K in KeysOf<S>]: HandleOf<K> } & {
  readonly registry: Registry;
  readonly service: S;
  /** An agent name as a label value: itself, or `_other` beyond the process's bound. */
  agentLabel(name: string): string;
  /**
   * Agent names labelled so far. Collectors of `agents` / `waitQueueDepth` set each to 0 when it
   * has nothing, rather than dropping the series: the "no agent of a name" alert needs the 0.
   */
  knownAgentLabels(): string[];
};

export interface ServiceMetricsOptions<S extends MetricService> {
  /** Default: a new Registry (one per service instance). */
  registry?: Registry;
  /** prom-client's process defaults, prefixed `agent_bridge_`. Default true. */
  defaultMetrics?: boolean;
  /** Distinct agent names labelled per process (agents, wait queues). Default 100. */
  agentLabelLimit?: number;
  /**
   * Gauges read at scrape time: e.g. `{ sessions: (g) => { g.set({state:'connected'}, n) } }`.
   * State that already lives in a structure is read when Prometheus asks, not kept twice.
   */
  collect?: { [K in GaugeKeysOf<S>]?: (gauge: HandleOf<K>) => void | Promise<void> };
  /**
   * false (setting METRICS=off): the per-frame families (PER_FRAME_KEYS) stay registered but their
   * handles do nothing, so a benchmark can measure what per-frame instrumentation costs. Default true.
   */
  perFrame?: boolean;
}

/** The families touched for every frame: what METRICS=off turns off. */
export const PER_FRAME_KEYS: readonly MetricKey[] = ['framesIn', 'framesOut', 'bytesIn', 'bytesOut', 'deliveryLatency', 'e2eLatency'];

const noop = (): void => undefined;
/**
 * A handle that accepts every call and records nothing (METRICS=off). Its `get` reads as a family
 * with no series, so what samples the handles (the ops view's history) sees 0 instead of failing.
 */
const NOOP_HANDLE = {
  inc: noop,
  dec: noop,
  set: noop,
  observe: noop,
  startTimer: () => noop,
  labels: () => NOOP_HANDLE,
  get: async () => ({ name: '', help: '', type: 'counter', values: [], aggregator: 'sum' }),
};

export function createServiceMetrics<S extends MetricService>(service: S, opts: ServiceMetricsOptions<S> = {}): ServiceMetrics<S> {
  const registry = opts.registry ?? new Registry();
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  const bound = new LabelBound(opts.agentLabelLimit ?? 100);
  const handles: Record<string, unknown> = {};
  const collectors = (opts.collect ?? {}) as Record<string, ((g: unknown) => void | Promise<void>) | undefined>;
  for (const [key, spec] of familiesOf(service)) {
    const metric = register(spec, registry, collectors[key]);
    initSeries(metric, spec, service);
    handles[key] = opts.perFrame === false && PER_FRAME_KEYS.includes(key) ? NOOP_HANDLE : metric;
  }
  return Object.assign(handles, {
    registry,
    service,
    agentLabel: (name: string) => bound.value(name),
    knownAgentLabels: () => bound.values(),
  }) as unknown as ServiceMetrics<S>;
}

function register(spec: MetricSpec, registry: Registry, collect?: (g: unknown) => void | Promise<void>): Counter | Gauge | Histogram {
  const common = { name: spec.name, help: spec.help, labelNames: [...spec.labels], registers: [registry] };
  switch (spec.type) {
    // Per-call cost of a map walk and an add, folded into prom-client's series when read
    // (metrics-fast.ts): every frame is counted, none sampled.
    case 'counter':
      return new FastCounter(common);
    case 'histogram':
      return new FastHistogram({ ...common, buckets: [...(spec.buckets ?? [])] });
    case 'gauge':
      return collect
        ? new Gauge({
            ...common,
            collect() {
              return collect(this);
            },
          })
        : new Gauge(common);
  }
}

/** Create the catalog's known label sets at 0 (see MetricSpec.init). */
function initSeries(metric: Counter | Gauge | Histogram, spec: MetricSpec, service: MetricService): void {
  if (spec.type === 'histogram') return; // a histogram's series appear with its first observation
  const sets = spec.labels.length === 0 ? [{}] : (spec.init?.(service) ?? []);
  for (const labels of sets) {
    if (metric instanceof Counter) metric.inc(labels, 0);
    else if (metric instanceof Gauge) metric.set(labels, 0);
  }
}

/** Every family name in catalog order (handy for tests asserting a scrape). */
export const ALL_METRIC_NAMES: readonly string[] = Object.values(METRICS).map((s) => s.name);
export * from './ops-history.ts';
