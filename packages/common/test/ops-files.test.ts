import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { load as parseYaml } from 'js-yaml';
import { beforeAll, describe, expect, test } from 'vitest';
import { REPO_ROOT } from '../src/config.ts';
import { checkPromql, exportedSeries, substituteGrafana } from './promql-names.ts';

const dashboardFile = path.join(REPO_ROOT, 'ops/grafana/agent-bridge.json');
const alertsFile = path.join(REPO_ROOT, 'ops/prometheus/alerts.yml');
const alertTestsFile = path.join(REPO_ROOT, 'ops/prometheus/alerts.test.yml');

interface Panel {
  type: string;
  title: string;
  targets?: Array<{ expr: string }>;
}
interface Rule {
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const dashboard = JSON.parse(readFileSync(dashboardFile, 'utf8')) as {
  uid: string;
  panels: Panel[];
  templating: { list: Array<{ name: string; query?: unknown; definition?: string }> };
};
const alerts = parseYaml(readFileSync(alertsFile, 'utf8')) as { groups: Array<{ name: string; rules: Rule[] }> };
const rules = alerts.groups.flatMap((g) => g.rules);
const panelExprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr })));
const ruleExprs = rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr }));

let series: Map<string, Set<string>>;
beforeAll(async () => {
  series = await exportedSeries();
});

describe('ops files', () => {
  test('the dashboard parses and every panel but the rows queries something', () => {
    expect(dashboard.uid).toBe('agent-bridge');
    for (const p of dashboard.panels.filter((x) => x.type !== 'row')) expect(p.targets?.length, p.title).toBeGreaterThan(0);
    expect(panelExprs.length).toBeGreaterThan(30);
  });

  test('the alert rules parse, each with a severity and a summary', () => {
    expect(rules.length).toBeGreaterThan(5);
    for (const r of rules) {
      expect(r.alert).toMatch(/^AgentBridge[A-Za-z]+$/);
      expect(['page', 'warning']).toContain(r.labels?.severity);
      expect(r.annotations?.summary, r.alert).toBeTruthy();
    }
  });

  // The failure modes issue 15 names, each covered by a rule on the right family.
  test.each([
    ['no agent of a name', 'agent_bridge_agents'],
    ['wait queue growing', 'deriv(agent_bridge_wait_queue_depth'],
    ['resume failures rising', 'agent_bridge_resumes_total{resumed="false"}'],
    ['dropped broadcasts', 'agent_bridge_broadcasts_dropped_total'],
    ['delivery p99', 'histogram_quantile(0.99, sum by (le, instance) (rate(agent_bridge_delivery_latency_seconds_bucket'],
    ['Redis errors', 'agent_bridge_redis_errors_total'],
  ])('an alert for %s', (_what, fragment) => {
    expect(rules.some((r) => r.expr.includes(fragment))).toBe(true);
  });

  test('every expression parses as PromQL and names only exported metrics and their labels', () => {
    const problems = [...panelExprs, ...ruleExprs].flatMap(({ where, expr }) =>
      checkPromql(substituteGrafana(expr), series).map((p) => `${where}: ${p}`),
    );
    expect(problems).toEqual([]);
  });

  test('template variables query exported metrics', () => {
    for (const v of dashboard.templating.list.filter((x) => x.definition)) {
      const m = /^label_values\((\w+), *(\w+)\)$/.exec(v.definition!);
      expect(m, v.definition).not.toBeNull();
      expect(series.get(m![1]!)?.has(m![2]!), v.definition).toBe(true);
    }
  });

  test('the checker itself catches an unknown metric, a wrong label and a syntax error', () => {
    expect(checkPromql('rate(agent_bridge_frames_in_total{kind="agent"}[5m])', series)).toEqual([]);
    expect(checkPromql('rate(agent_bridge_frame_in_total[5m])', series)).toEqual(['unknown metric agent_bridge_frame_in_total']);
    expect(checkPromql('agent_bridge_sessions{clientId="x"}', series)).toEqual(['agent_bridge_sessions has no label clientId']);
    expect(checkPromql('sum(rate(agent_bridge_frames_in_total[5m])', series).join()).toMatch(/syntax error/);
    expect(checkPromql('{__name__="agent_bridge_ready"}', series).join()).toMatch(/without a metric name/);
    expect(checkPromql('agent_bridge_process_resident_memory_bytes', series)).toEqual([]);
  });
});

// Prometheus' own checker where Debian's prometheus package is installed (CI machines may not
// have it; the lezer-based checks above run everywhere).
const promtool = spawnSync('promtool', ['--version']).status === 0;
describe.skipIf(!promtool)(promtool ? 'promtool' : 'promtool (SKIPPED: promtool not installed; apt-get install prometheus to run it)', () => {
  test('promtool check rules: alerts.yml, and every dashboard expression as a recording rule', () => {
    execFileSync('promtool', ['check', 'rules', alertsFile], { stdio: 'pipe' });
    const dir = mkdtempSync(path.join(tmpdir(), 'ab-ops-'));
    const file = path.join(dir, 'dashboard-rules.yml');
    const recorded = panelExprs.map(({ expr }, i) => `      - record: dashboard:expr_${i}\n        expr: ${JSON.stringify(substituteGrafana(expr))}`);
    writeFileSync(file, `groups:\n  - name: dashboard\n    rules:\n${recorded.join('\n')}\n`);
    execFileSync('promtool', ['check', 'rules', file], { stdio: 'pipe' });
  });

  test('promtool test rules: the alerts fire (and stay quiet) on sample series', () => {
    const out = spawnSync('promtool', ['test', 'rules', alertTestsFile], { encoding: 'utf8' });
    expect(out.stdout + out.stderr).toContain('SUCCESS');
    expect(out.status).toBe(0);
  });
});
