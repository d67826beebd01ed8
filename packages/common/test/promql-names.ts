/**
 * Checks a PromQL expression against the metric catalog without Prometheus: parsed with the
 * Prometheus project's own lezer grammar (@prometheus-io/lezer-promql), it must have no syntax
 * error, name every selector's metric explicitly, use only series the services export, and match
 * only labels those families carry (plus Prometheus' job/instance and a histogram's le).
 */
import { parser } from '@prometheus-io/lezer-promql';
import { createServiceMetrics, familiesOf, seriesNames, type MetricSpec } from '../src/metrics.ts';

const TARGET_LABELS = ['job', 'instance'];

/** Every series name a scrape of our services can hold, with the labels it may carry. */
export async function exportedSeries(): Promise<Map<string, Set<string>>> {
  const out = new Map<string, Set<string>>();
  const add = (name: string, labels: string[]) => out.set(name, new Set([...(out.get(name) ?? []), ...labels, ...TARGET_LABELS]));
  for (const service of ['broker', 'web'] as const) {
    for (const [, spec] of familiesOf(service)) {
      for (const name of seriesNames(spec as MetricSpec)) add(name, [...spec.labels, ...(name.endsWith('_bucket') ? ['le'] : [])]);
    }
    // prom-client's prefixed process defaults, as registered (their names depend on the platform)
    const m = createServiceMetrics(service);
    for (const metric of await m.registry.getMetricsAsJSON()) {
      if (familiesOf(service).some(([, s]) => s.name === metric.name)) continue;
      const labels = [...new Set(metric.values.flatMap((v) => Object.keys(v.labels)))];
      if (metric.type === ('histogram' as never)) for (const n of ['_bucket', '_sum', '_count']) add(metric.name + n, [...labels, 'le']);
      else add(metric.name, labels);
    }
  }
  return out;
}

/** Grafana macros and variables as Prometheus would see them after substitution. */
export function substituteGrafana(expr: string): string {
  return expr
    .replaceAll('$__rate_interval', '5m')
    .replaceAll('$__interval', '1m')
    .replaceAll('$__range', '1h')
    .replace(/\$\{?[a-zA-Z_]+\}?/g, '.*');
}

export function checkPromql(expr: string, series: Map<string, Set<string>>): string[] {
  const problems: string[] = [];
  const tree = parser.parse(expr);
  tree.iterate({
    enter(node) {
      if (node.type.isError) problems.push(`syntax error at ${node.from}: …${expr.slice(node.from, node.from + 30)}`);
      if (node.name !== 'VectorSelector') return;
      const n = node.node;
      const id = n.getChild('Identifier');
      if (!id) {
        problems.push(`selector without a metric name: ${expr.slice(n.from, n.to)}`);
        return false;
      }
      const name = expr.slice(id.from, id.to);
      const labels = series.get(name);
      if (!labels) {
        problems.push(`unknown metric ${name}`);
        return false;
      }
      const matchers = n.getChild('LabelMatchers');
      const cursor = matchers?.cursor();
      if (cursor) {
        do {
          if (cursor.name === 'LabelName') {
            const label = expr.slice(cursor.from, cursor.to);
            if (!labels.has(label)) problems.push(`${name} has no label ${label}`);
          }
        } while (cursor.next() && cursor.from < matchers!.to);
      }
      return false;
    },
  });
  return problems;
}
