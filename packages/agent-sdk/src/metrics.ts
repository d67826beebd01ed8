/**
 * Optional Prometheus metrics of the SDK (issue 15): with the `metricsRegistry` option (a
 * prom-client Registry of the agent's process) the SDK registers the catalog families whose
 * exporter is `sdk` there: `agent_bridge_e2e_latency_seconds{direction="to_agent"}` (a
 * client.message's `ts`, stamped by the broker, to the SDK handing it to the agent: both clocks
 * ours) and `agent_bridge_heartbeat_rtt_seconds{kind="agent"}` (the SDK's own pings).
 *
 * prom-client is an optional peer dependency, loaded (synchronously: it is CommonJS) only when
 * the option is given; without it the SDK does no metric work at all. Several agents may share
 * one registry: a family already registered there is reused.
 */
import { createRequire } from 'node:module';
import { METRICS, type MetricSpec } from '@agent-bridge/common/metrics-catalog';
import { AgentSdkError } from './errors.ts';

/** The part of a prom-client Registry the SDK uses (any prom-client 15 Registry fits). */
export interface MetricsRegistry {
  getSingleMetric(name: string): unknown;
  registerMetric(metric: never): void;
}

interface HistogramLike {
  observe(labels: Record<string, string>, value: number): void;
}

export interface SdkMetrics {
  /** to_agent latency of one client.message from its `ts`; ignores an unparsable one. */
  toAgent(ts: string): void;
  heartbeatRtt(seconds: number): void;
}

type PromClient = { Histogram: new (cfg: Record<string, unknown>) => HistogramLike };

function loadPromClient(): PromClient {
  // From the SDK's own location first (npm and pnpm peers), then the application's.
  for (const base of [import.meta.url, `${process.cwd()}/`]) {
    try {
      return createRequire(base)('prom-client') as PromClient;
    } catch {
      // try the next
    }
  }
  throw new AgentSdkError('invalid_option', 'metricsRegistry needs the prom-client package installed (npm i prom-client)');
}

function histogram(prom: PromClient, registry: MetricsRegistry, spec: MetricSpec): HistogramLike {
  const existing = registry.getSingleMetric(spec.name) as HistogramLike | undefined;
  if (existing) return existing;
  return new prom.Histogram({
    name: spec.name,
    help: spec.help,
    labelNames: [...spec.labels],
    buckets: [...(spec.buckets ?? [])],
    registers: [registry],
  });
}

export function createSdkMetrics(registry: MetricsRegistry): SdkMetrics {
  const prom = loadPromClient();
  const e2e = histogram(prom, registry, METRICS.e2eLatency);
  const rtt = histogram(prom, registry, METRICS.heartbeatRtt);
  const TO_AGENT = { direction: 'to_agent' };
  const AGENT = { kind: 'agent' };
  return {
    toAgent(ts) {
      const sent = Date.parse(ts);
      if (Number.isFinite(sent)) e2e.observe(TO_AGENT, Math.max(0, Date.now() - sent) / 1000);
    },
    heartbeatRtt: (s) => rtt.observe(AGENT, s),
  };
}
