import { agentName, type BackoffOptions } from '@agent-bridge/common/protocol';
import { DEFAULT_AGENT, BACKOFF_RESET_AFTER_MS } from '@agent-bridge/common/protocol';
import type { Logger } from '@agent-bridge/common';
import { AgentSdkError } from './errors.ts';
import type { MetricsRegistry } from './metrics.ts';
import type { AgentTracer } from './tracing.ts';
import { agentEndpoints } from './url.ts';

export interface ConnectAgentOptions {
  /**
   * Broker base URL (`ws://127.0.0.1:8080`); `/ws/agent` is appended unless present. Several
   * brokers of one cluster: an array, or one string with comma-separated URLs; the first dial
   * goes to the first, and every redial to the next in the list (wrapping around).
   */
  url: string | readonly string[];
  /** One of the broker's AGENT_TOKEN values; sent as `Authorization: Bearer`. */
  token: string;
  /** Agent name (`X-Agent-Name`), 1–64 of `A-Za-z0-9._-`. Default `default`. */
  name?: string;
  /** pino logger; default: warnings and errors as JSON lines on stderr. */
  logger?: Logger;
  /** Silence (no frame, ping or pong) after which the connection counts as dead. Default 30000. */
  heartbeatTimeoutMs?: number;
  /**
   * Frames the bridge has not taken yet: sent while disconnected, and (with `acks`) written but
   * not yet answered `accepted`. Beyond it send() throws `outbox_full`. Default 1000.
   */
  outboxLimit?: number;
  /**
   * PROTOCOL §8, on by default: connect with `X-Agent-Acks: 1`, acknowledge each client message
   * after the `message` listeners finish (or on `msg.ack()`), and keep every sent frame until the
   * bridge answers `accepted`, resending the unaccepted ones after a redial. `false`: v1
   * behaviour (a frame written to the socket counts as sent; no acks).
   */
  acks?: boolean;
  /**
   * Redial schedule (common `Backoff`: 1 s → 60 s, ±20 % jitter). `resetAfterMs`: how long a
   * connection must stay up before the schedule starts again from the first step
   * (default BACKOFF_RESET_AFTER_MS).
   */
  backoff?: BackoffOptions & { resetAfterMs?: number };
  /**
   * OpenTelemetry hop spans (receive per client message, send per reply), linked through the
   * frames' `_meta.traceparent`: `await createAgentTracer()` (OTLP export when
   * OTEL_EXPORTER_OTLP_ENDPOINT is set) or any object of that shape. Default none: no span work.
   */
  tracer?: AgentTracer;
  /**
   * A prom-client Registry: the SDK registers `agent_bridge_e2e_latency_seconds{direction="to_agent"}`
   * and `agent_bridge_heartbeat_rtt_seconds{kind="agent"}` there (needs prom-client installed).
   * Default none: no metric work.
   */
  metricsRegistry?: MetricsRegistry;
}

export interface ResolvedOptions {
  /** The first of `endpoints`. */
  endpoint: string;
  /** Every broker's agent endpoint, in the order given. */
  endpoints: string[];
  token: string;
  name: string;
  heartbeatTimeoutMs: number;
  outboxLimit: number;
  acks: boolean;
  backoff: BackoffOptions;
  resetAfterMs: number;
}

const positiveInt = (v: number | undefined, fallback: number, what: string): number => {
  if (v === undefined) return fallback;
  if (!Number.isInteger(v) || v <= 0) throw new AgentSdkError('invalid_option', `${what} must be a positive integer`);
  return v;
};

/** Check options up front: a typo should fail at start-up, not as an endless redial loop. */
export function resolveOptions(opts: ConnectAgentOptions): ResolvedOptions {
  if (typeof opts.token !== 'string' || opts.token.length === 0) {
    throw new AgentSdkError('invalid_option', 'token is required (the broker AGENT_TOKEN)');
  }
  const name = opts.name ?? DEFAULT_AGENT;
  if (!agentName.safeParse(name).success) {
    throw new AgentSdkError('invalid_option', 'name must be 1-64 of A-Z a-z 0-9 . _ -');
  }
  const { resetAfterMs, ...backoff } = opts.backoff ?? {};
  const endpoints = agentEndpoints(opts.url);
  return {
    endpoint: endpoints[0]!,
    endpoints,
    token: opts.token,
    name,
    heartbeatTimeoutMs: positiveInt(opts.heartbeatTimeoutMs, 30_000, 'heartbeatTimeoutMs'),
    outboxLimit: positiveInt(opts.outboxLimit, 1000, 'outboxLimit'),
    acks: opts.acks !== false,
    backoff,
    resetAfterMs: resetAfterMs ?? BACKOFF_RESET_AFTER_MS,
  };
}
