/**
 * prom-client counters and histograms whose per-call cost is a few map lookups and an add
 * (issue 15 item 7: instrumentation within 5 % of the hot path). prom-client's own `inc(labels)`
 * validates the label names, builds a hash string from every label and looks the series up by it
 * on every call; `observe(labels, v)` does that and allocates two closures and an object, and
 * looks its bucket up by a number-to-string property name. Here each label set gets a cell the
 * first time it is seen (found again through one Map per label, no string built); a call adds to
 * the cell, and the cells are folded into prom-client's series whenever the metric is read
 * (`get()` / `getForPromString()`: every scrape, the ops view's sampler, tests). Nothing is
 * sampled: every call counts, the exposition is exactly what prom-client's own calls give
 * (metrics-fast.test.ts compares the two), only the moment the numbers move into prom-client's
 * structure changes. `labels(...)` returns a child bound to its cell, for callers that bind once.
 */
import { Counter, Histogram, type CounterConfiguration, type HistogramConfiguration } from 'prom-client';

type Labels = Record<string, string | number | undefined>;

/** A label set's cell, reached by walking one Map per label name (in labelNames order). */
class Cells<C> {
  private readonly root = new Map<unknown, unknown>();
  private single: C | undefined;
  readonly all: C[] = [];

  constructor(private readonly names: readonly string[]) {}

  find(labels: Labels | undefined): C | undefined {
    const names = this.names;
    // The per-frame families have one or two labels: no loop.
    if (names.length === 2) return (this.root.get(labels?.[names[0]!]) as Map<unknown, unknown> | undefined)?.get(labels?.[names[1]!]) as C | undefined;
    if (names.length === 1) return this.root.get(labels?.[names[0]!]) as C | undefined;
    if (names.length === 0) return this.single;
    let node: Map<unknown, unknown> | undefined = this.root;
    const last = names.length - 1;
    for (let i = 0; i < last && node; i++) node = node.get(labels?.[names[i]!]) as Map<unknown, unknown> | undefined;
    return node?.get(labels?.[names[last]!]) as C | undefined;
  }

  add(labels: Labels | undefined, cell: C): void {
    this.all.push(cell);
    const names = this.names;
    if (names.length === 0) {
      this.single = cell;
      return;
    }
    let node = this.root;
    const last = names.length - 1;
    for (let i = 0; i < last; i++) {
      const key = labels?.[names[i]!];
      let next = node.get(key) as Map<unknown, unknown> | undefined;
      if (!next) node.set(key, (next = new Map()));
      node = next;
    }
    node.set(labels?.[names[last]!], cell);
  }
}

/** Only the label names the metric declares, copied (the caller may reuse its object). */
function ownLabels(names: readonly string[], labels: Labels | undefined): Labels {
  const out: Labels = {};
  for (const n of names) if (labels?.[n] !== undefined) out[n] = labels[n];
  return out;
}

interface CounterCell {
  labels: Labels;
  pending: number;
}

export class FastCounter<T extends string = string> extends Counter<T> {
  private readonly cells: Cells<CounterCell>;
  private readonly slowInc: (labels: Labels, value: number) => void;

  constructor(config: CounterConfiguration<T>) {
    super(config);
    const names = (config.labelNames ?? []) as readonly string[];
    this.cells = new Cells(names);
    // prom-client assigns `inc` per instance in its constructor; ours replaces it.
    this.slowInc = (this as unknown as { inc: (l: Labels, v: number) => void }).inc.bind(this);
    const cellOf = (labels: Labels | undefined): CounterCell => {
      let cell = this.cells.find(labels);
      if (!cell) {
        this.slowInc(labels ?? {}, 0); // prom-client's validation of the label names, once per set
        cell = { labels: ownLabels(names, labels), pending: 0 };
        this.cells.add(labels, cell);
      }
      return cell;
    };
    const inc = (a?: Labels | number, b?: number): void => {
      const labels = typeof a === 'object' && a !== null ? a : undefined;
      const value = labels ? (b ?? 1) : ((a as number | undefined) ?? 1);
      // A negative, NaN or infinite value: prom-client throws its own error.
      if (!(value >= 0 && value !== Infinity)) return this.slowInc(labels ?? {}, value);
      cellOf(labels).pending += value;
    };
    const remove = this.remove.bind(this) as (...args: unknown[]) => void;
    Object.assign(this, {
      // A series removed goes with what its cell counted since the last read.
      remove: (...args: unknown[]) => {
        this.flush();
        remove(...args);
      },
      inc,
      labels: (...args: unknown[]) => {
        const labels = labelsFromArgs(names, args);
        const cell = cellOf(labels);
        return {
          inc: (value = 1): void => {
            if (!(value >= 0 && value !== Infinity)) return this.slowInc(labels, value);
            cell.pending += value;
          },
        };
      },
    });
  }

  /** Move what the cells counted into prom-client's series. */
  flush(): void {
    for (const cell of this.cells.all) {
      if (cell.pending === 0) continue;
      const n = cell.pending;
      cell.pending = 0;
      this.slowInc(cell.labels, n);
    }
  }

  override async get() {
    this.flush();
    return super.get();
  }

  override reset(): void {
    // prom-client's constructor calls reset() before ours has run.
    for (const cell of this.cells?.all ?? []) cell.pending = 0;
    super.reset();
  }

}

/** prom-client's histogram series (internal; pinned by metrics-fast.test.ts). */
interface HistogramEntry {
  labels: Labels;
  bucketValues: Record<string, number>;
  sum: number;
  count: number;
}

interface HistogramCell {
  labels: Labels;
  hash: string;
  /** Observations per bucket since the last flush (not cumulative); beyond the last bound: none. */
  buckets: Float64Array;
  sum: number;
  count: number;
}

export class FastHistogram<T extends string = string> extends Histogram<T> {
  private readonly cells: Cells<HistogramCell>;
  private readonly bounds: number[];
  private readonly slowObserve: (labels: Labels, value: number) => void;

  constructor(config: HistogramConfiguration<T>) {
    super(config);
    const names = (config.labelNames ?? []) as readonly string[];
    const sorted = [...names].sort();
    this.cells = new Cells(names);
    const self = this as unknown as { upperBounds: number[]; observe: (l: Labels, v: number) => void };
    this.bounds = [...self.upperBounds];
    this.slowObserve = self.observe.bind(this);
    const bounds = this.bounds;
    const cellOf = (labels: Labels | undefined): HistogramCell => {
      let cell = this.cells.find(labels);
      if (!cell) {
        const own = ownLabels(names, labels);
        checkLabelNames(config.name, names, labels);
        cell = { labels: own, hash: hashOf(sorted, own), buckets: new Float64Array(bounds.length), sum: 0, count: 0 };
        this.cells.add(labels, cell);
      }
      return cell;
    };
    const observe = (cell: HistogramCell, value: number): void => {
      if (!Number.isFinite(value)) return this.slowObserve(cell.labels, value);
      for (let i = 0; i < bounds.length; i++) {
        if (value <= bounds[i]!) {
          cell.buckets[i]!++;
          break;
        }
      }
      cell.sum += value;
      cell.count++;
    };
    const remove = this.remove.bind(this) as (...args: unknown[]) => void;
    // The registry reads a histogram through getForPromString (not in prom-client's types).
    const forProm = (this as unknown as { getForPromString: () => Promise<unknown> }).getForPromString.bind(this);
    Object.assign(this, {
      remove: (...args: unknown[]) => {
        this.flush();
        remove(...args);
      },
      getForPromString: () => {
        this.flush();
        return forProm();
      },
      observe: (a: Labels | number, b?: number): void => {
        if (typeof a === 'object' && a !== null) observe(cellOf(a), b as number);
        else observe(cellOf(undefined), a);
      },
      labels: (...args: unknown[]) => {
        const cell = cellOf(labelsFromArgs(names, args));
        return {
          observe: (value: number) => observe(cell, value),
          startTimer: (end?: Labels) => {
            const start = process.hrtime.bigint();
            return (endLabels?: Labels) => {
              const s = Number(process.hrtime.bigint() - start) / 1e9;
              if (end || endLabels) this.slowObserve({ ...cell.labels, ...end, ...endLabels }, s);
              else observe(cell, s);
              return s;
            };
          },
        };
      },
    });
  }

  private entries(): Record<string, HistogramEntry> {
    return (this as unknown as { hashMap: Record<string, HistogramEntry> }).hashMap;
  }

  /** Move what the cells observed into prom-client's series. */
  flush(): void {
    const map = this.entries();
    for (const cell of this.cells.all) {
      if (cell.count === 0) continue;
      let entry = map[cell.hash];
      if (!entry) {
        this.zero(cell.labels as Parameters<Histogram<T>['zero']>[0]);
        entry = map[cell.hash]!;
      }
      for (let i = 0; i < this.bounds.length; i++) {
        const n = cell.buckets[i]!;
        if (n === 0) continue;
        entry.bucketValues[String(this.bounds[i])]! += n;
        cell.buckets[i] = 0;
      }
      entry.sum += cell.sum;
      entry.count += cell.count;
      cell.sum = 0;
      cell.count = 0;
    }
  }

  override async get() {
    this.flush();
    return super.get();
  }

  override reset(): void {
    for (const cell of this.cells?.all ?? []) {
      cell.buckets.fill(0);
      cell.sum = 0;
      cell.count = 0;
    }
    super.reset();
  }

}

/** prom-client's check (its message): a label the metric does not declare is a programming error. */
function checkLabelNames(metric: string, names: readonly string[], labels: Labels | undefined): void {
  for (const k in labels) {
    if (!names.includes(k)) throw new Error(`Added label "${k}" is not included in initial labelset: ${JSON.stringify(names)} (${metric})`);
  }
}

/** prom-client's series key: `name:value,` for each defined label, names sorted. */
function hashOf(sortedNames: readonly string[], labels: Labels): string {
  let hash = '';
  for (const n of sortedNames) if (labels[n] !== undefined) hash += `${n}:${labels[n]},`;
  return hash;
}

/** `labels('a', 'b')` or `labels({x: 'a'})`, as prom-client accepts them. */
function labelsFromArgs(names: readonly string[], args: unknown[]): Labels {
  if (args.length === 1 && typeof args[0] === 'object' && args[0] !== null) return args[0] as Labels;
  const out: Labels = {};
  names.forEach((n, i) => {
    if (args[i] !== undefined) out[n] = args[i] as string;
  });
  return out;
}
