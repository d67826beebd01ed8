import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { REPO_ROOT } from '../src/config.ts';
import {
  ALL_METRIC_NAMES,
  METRICS,
  OTHER_LABEL,
  closeCodeLabel,
  createServiceMetrics,
  familiesOf,
  frameTypeLabel,
  renderMetricsTable,
  routeLabel,
  type MetricSpec,
} from '../src/metrics.ts';

const specs = Object.values(METRICS) as MetricSpec[];

describe('metric catalog', () => {
  test('names are valid Prometheus names with the agent_bridge_ prefix, unique, and follow the suffix conventions', () => {
    expect(new Set(ALL_METRIC_NAMES).size).toBe(ALL_METRIC_NAMES.length);
    for (const s of specs) {
      expect(s.name).toMatch(/^agent_bridge_[a-z0-9_]+$/);
      if (s.type === 'counter') expect(s.name).toMatch(/_total$/);
      else expect(s.name).not.toMatch(/_total$/);
      if (s.type === 'histogram') expect(s.name).toMatch(/_seconds$/);
      expect(s.help.length).toBeGreaterThan(10);
      expect(s.services.length).toBeGreaterThan(0);
    }
  });

  test('labels are bounded: never an id, address or IP', () => {
    for (const s of specs) {
      for (const label of s.labels) expect(label).not.toMatch(/id$|Id$|address|^ip$|token|user|session$/i);
    }
  });

  // Issue 15 item 1 and PROTOCOL §11, family by family: removing one from the catalog fails here.
  test.each([
    ['connections by kind', 'agent_bridge_connections', ['kind']],
    ['sessions (connected, detached)', 'agent_bridge_sessions', ['state']],
    ['agents per name', 'agent_bridge_agents', ['agent']],
    ['frames in by hop and type', 'agent_bridge_frames_in_total', ['kind', 'type']],
    ['frames out by hop and type', 'agent_bridge_frames_out_total', ['kind', 'type']],
    ['bytes in', 'agent_bridge_bytes_in_total', ['kind']],
    ['bytes out', 'agent_bridge_bytes_out_total', ['kind']],
    ['errors by code', 'agent_bridge_errors_total', ['code']],
    ['close codes', 'agent_bridge_closes_total', ['kind', 'code']],
    ['resume outcomes', 'agent_bridge_resumes_total', ['resumed', 'reason']],
    ['dropped broadcasts', 'agent_bridge_broadcasts_dropped_total', []],
    ['mailbox depth', 'agent_bridge_mailbox_frames', ['kind']],
    ['wait-queue depth per name', 'agent_bridge_wait_queue_depth', ['agent']],
    ['accepted', 'agent_bridge_frames_accepted_total', ['from']],
    ['redelivered', 'agent_bridge_frames_redelivered_total', []],
    ['de-duplicated', 'agent_bridge_frames_deduplicated_total', ['from']],
    ['delivery latency', 'agent_bridge_delivery_latency_seconds', ['kind']],
    ['end-to-end latency', 'agent_bridge_e2e_latency_seconds', ['direction']],
    ['heartbeat round trip', 'agent_bridge_heartbeat_rtt_seconds', ['kind']],
    ['SIWE by outcome', 'agent_bridge_siwe_verifications_total', ['outcome']],
    ['HTTP by route and status', 'agent_bridge_http_requests_total', ['route', 'method', 'status']],
    ['Redis errors', 'agent_bridge_redis_errors_total', []],
    ['Redis reconnects', 'agent_bridge_redis_reconnects_total', []],
    ['cross-broker lag', 'agent_bridge_cross_broker_lag_seconds', []],
  ])('%s: %s', (_what, name, labels) => {
    const spec = specs.find((s) => s.name === name);
    expect(spec, name).toBeDefined();
    expect([...spec!.labels]).toEqual(labels);
  });

  test('histograms of latency are histograms with buckets', () => {
    for (const s of specs.filter((x) => x.name.endsWith('_seconds'))) {
      expect(s.type).toBe('histogram');
      expect(s.buckets!.length).toBeGreaterThan(4);
      expect([...s.buckets!]).toEqual([...s.buckets!].sort((a, b) => a - b));
    }
  });
});

describe('label helpers', () => {
  test('close codes: the contract codes kept, the application ranges collapsed', () => {
    expect(closeCodeLabel(1000)).toBe('1000');
    expect(closeCodeLabel(1006)).toBe('1006');
    expect(closeCodeLabel(1013)).toBe('1013');
    expect(closeCodeLabel(4500)).toBe('4500');
    expect(closeCodeLabel(4501)).toBe('4500-4999');
    expect(closeCodeLabel(4123)).toBe('4000-4499');
    expect(closeCodeLabel(3000)).toBe('other');
    expect(closeCodeLabel(Number.NaN)).toBe('other');
  });
  test('routes: our first segment or static; never the full path', () => {
    expect(routeLabel('/api/clients')).toBe('api');
    expect(routeLabel('/ws/5f0c-uuid')).toBe('ws');
    expect(routeLabel('/readyz')).toBe('readyz');
    expect(routeLabel('/some/spa/route')).toBe('static');
    expect(routeLabel('/')).toBe('static');
  });
  test('frame types: known or invalid', () => {
    expect(frameTypeLabel('client.message')).toBe('client.message');
    expect(frameTypeLabel('accepted')).toBe('accepted');
    expect(frameTypeLabel('nonsense-from-a-client')).toBe('invalid');
    expect(frameTypeLabel(42)).toBe('invalid');
  });
});

describe('createServiceMetrics', () => {
  test('the broker registry holds exactly the broker families, prefixed defaults, and typed handles move', async () => {
    const m = createServiceMetrics('broker', {
      agentLabelLimit: 2,
      collect: {
        sessions: (g) => {
          g.set({ state: 'connected' }, 3);
          g.set({ state: 'detached' }, 1);
        },
      },
    });
    m.framesIn.inc({ kind: 'agent', type: frameTypeLabel('send') });
    m.deliveryLatency.observe({ kind: 'client' }, 0.0004);
    m.waitQueueDepth.set({ agent: m.agentLabel('trader') }, 2);
    m.waitQueueDepth.set({ agent: m.agentLabel('scout') }, 1);
    m.waitQueueDepth.set({ agent: m.agentLabel('invented-by-a-client') }, 5);
    const text = await m.registry.metrics();
    const names = (await m.registry.getMetricsAsJSON()).map((x) => x.name);
    for (const [, spec] of familiesOf('broker')) expect(names).toContain(spec.name);
    expect(names).not.toContain(METRICS.siweVerifications.name); // web only
    for (const name of names) expect(name.startsWith('agent_bridge_')).toBe(true);
    expect(names).toContain('agent_bridge_process_cpu_user_seconds_total');
    expect(text).toContain('agent_bridge_frames_in_total{kind="agent",type="send"} 1');
    expect(text).toContain('agent_bridge_sessions{state="connected"} 3');
    expect(text).toContain('agent_bridge_delivery_latency_seconds_bucket{le="0.0005",kind="client"} 1');
    expect(text).toContain(`agent_bridge_wait_queue_depth{agent="${OTHER_LABEL}"} 5`);
    expect(text).not.toContain('invented-by-a-client');
    expect(m.knownAgentLabels()).toEqual(['trader', 'scout']);
    // counters with known values exist at 0 from the first scrape, so rate() sees the first error
    expect(text).toContain('agent_bridge_errors_total{code="rate_limited"} 0');
    expect(text).toContain('agent_bridge_resumes_total{resumed="false",reason="gap"} 0');
    expect(text).toContain('agent_bridge_broadcasts_dropped_total 0');
  });

  test('the web registry holds the web families; two instances in one process do not clash', async () => {
    const a = createServiceMetrics('web', { defaultMetrics: false });
    const b = createServiceMetrics('web', { defaultMetrics: false });
    a.siweVerifications.inc({ outcome: 'ok' });
    const names = (await a.registry.getMetricsAsJSON()).map((x) => x.name);
    expect(names.sort()).toEqual(familiesOf('web').map(([, s]) => s.name).sort());
    expect(await a.registry.metrics()).toContain('agent_bridge_siwe_verifications_total{outcome="ok"} 1');
    expect(await b.registry.metrics()).toContain('agent_bridge_siwe_verifications_total{outcome="ok"} 0');
    expect(await a.registry.metrics()).toContain('agent_bridge_siwe_verifications_total{outcome="siwe_nonce_used"} 0');
  });
});

describe('docs/metrics.md', () => {
  const file = path.join(REPO_ROOT, 'docs/metrics.md');
  const BEGIN = '<!-- metrics-table:begin (generated from packages/common/src/metrics-catalog.ts) -->';
  const END = '<!-- metrics-table:end -->';
  test('holds the table generated from the catalog (UPDATE_METRICS_DOC=1 rewrites it)', () => {
    const doc = readFileSync(file, 'utf8');
    const start = doc.indexOf(BEGIN);
    const stop = doc.indexOf(END);
    expect(start, 'markers missing').toBeGreaterThanOrEqual(0);
    const want = `${BEGIN}\n${renderMetricsTable()}\n${END}`;
    const have = doc.slice(start, stop + END.length);
    if (have !== want && process.env.UPDATE_METRICS_DOC === '1') {
      writeFileSync(file, doc.slice(0, start) + want + doc.slice(stop + END.length));
      return;
    }
    expect(have).toBe(want);
  });
});
