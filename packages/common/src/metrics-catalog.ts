/**
 * Every Prometheus metric family of Agent Bridge, once (issue 15, PROTOCOL §11). The services
 * register their families through `createServiceMetrics` (metrics.ts); docs/metrics.md,
 * ops/grafana and ops/prometheus are checked against this table by tests, so a family renamed
 * here cannot leave a dashboard or an alert silently empty.
 *
 * Pure data and label helpers: no prom-client import, so this file costs nothing to whoever
 * only needs the names (docs test, ops view).
 *
 * Labels are bounded by construction: every label's values come from a table of ours (frame
 * types, error codes, close codes, HTTP statuses we send, route groups) or from agent names, which
 * pass through a per-process bound (`LabelBound`). Never a clientId, agentId, address or IP.
 */
import { CloseCodeInfo, ERROR_CODES, FrameType, HttpErrorCode } from './protocol/codes.ts';

export const METRIC_PREFIX = 'agent_bridge_';

/** Which process exports a family. `sdk`: the agent SDK, when its user hands it a registry. */
export type MetricService = 'broker' | 'web' | 'sdk';
export type MetricType = 'counter' | 'gauge' | 'histogram';
export type LabelSet = Readonly<Record<string, string>>;

export interface MetricSpec {
  readonly name: string;
  readonly type: MetricType;
  readonly labels: readonly string[];
  readonly help: string;
  readonly services: readonly MetricService[];
  /** Histogram buckets, seconds. */
  readonly buckets?: readonly number[];
  /**
   * Label sets created at 0 when the family is registered, so `rate()` and `increase()` see the
   * series from the first scrape (a counter born at 1 loses its first increment to `rate`).
   */
  readonly init?: (service: MetricService) => readonly LabelSet[];
  /** Families for features that come later (§8 acks, §10 cluster): registered, not yet moving. */
  readonly pending?: string;
}

// ---------------------------------------------------------------- label values

/**
 * `kind`: which kind of connection (hop) a connection or frame is. broker: `agent` (agent
 * runtimes), `client` (the web server's per-client upstreams); web: `client` (browser sockets),
 * `upstream` (its sockets to the broker); sdk: `agent`.
 */
export const CONNECTION_KINDS: Readonly<Record<MetricService, readonly string[]>> = {
  broker: ['agent', 'client'],
  web: ['client', 'upstream'],
  sdk: ['agent'],
};

/** `type` of a frame: a FrameType value, `accepted` (§8), `invalid`, or `any` where a service pipes without parsing. */
const FRAME_TYPES = new Set<string>([...Object.values(FrameType), 'accepted']);
export function frameTypeLabel(type: unknown): string {
  return typeof type === 'string' && FRAME_TYPES.has(type) ? type : 'invalid';
}
export const FRAME_TYPE_UNPARSED = 'any';

/**
 * `code` of a close: the codes of the contract and the usual network ones are kept as they are;
 * the two application ranges collapse to one value each (a peer may close with any of 1,000
 * numbers there), anything else is `other`.
 */
const KNOWN_CLOSE_CODES = new Set<number>([...Object.keys(CloseCodeInfo).map(Number), 1005, 1006, 1012]);
export function closeCodeLabel(code: number): string {
  if (KNOWN_CLOSE_CODES.has(code)) return String(code);
  if (code >= 4000 && code <= 4499) return '4000-4499';
  if (code >= 4500 && code <= 4999) return '4500-4999';
  return 'other';
}

/** `route` of an HTTP request: the first path segment when it is one of ours, else `static`. */
const ROUTES = new Set(['api', 'auth', 'ws', 'healthz', 'readyz', 'metrics', 'assets', 'internal']);
export function routeLabel(path: string): string {
  const first = path.split('/')[1] ?? '';
  return ROUTES.has(first) ? first : 'static';
}

/** `status` of an HTTP answer: the status code, or its class when it is not one we send. */
export function statusLabel(status: number): string {
  return status >= 100 && status <= 599 ? String(status) : 'other';
}

/** `outcome` of a sign-in verification: `ok` or the siwe_* code it was refused with. */
export const SIWE_OUTCOMES: readonly string[] = ['ok', 'bad_request', ...Object.keys(HttpErrorCode).filter((c) => c.startsWith('siwe_'))];

/** `reason` of a resume that did not resume: frames it needed were gone, another epoch, or no such session. */
export const RESUME_REASONS = ['ok', 'gap', 'epoch_changed', 'unknown_session'] as const;

/** `budget` of an over_capacity refusal. */
export const CAPACITY_BUDGETS = ['sessions', 'sessions_per_ip', 'agents', 'wait_queue', 'resume', 'outage_hold', 'upstream'] as const;

/**
 * Agent names are chosen by whoever holds AGENT_TOKEN, but a client may ask for any valid name
 * (a wait queue per name): each process labels at most `limit` distinct names and counts the rest
 * under `_other`, so a client inventing names cannot grow the scrape.
 */
export const OTHER_LABEL = '_other';
export class LabelBound {
  private readonly seen = new Set<string>();
  constructor(readonly limit: number) {}
  value(name: string): string {
    if (this.seen.has(name)) return name;
    if (this.seen.size >= this.limit) return OTHER_LABEL;
    this.seen.add(name);
    return name;
  }
  /** Every name labelled so far: a collector sets these to 0 once they are gone, so "none left" is a series. */
  values(): string[] {
    return [...this.seen];
  }
}

// ---------------------------------------------------------------- buckets

/** In-process hops: 50 µs (a direct write) to 2.5 s (a mailbox that waited for a slow socket). */
const HOP_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
/** Across processes and the network (heartbeats, end to end, Redis lag). */
const NET_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const HTTP_BUCKETS = [0.001, 0.005, 0.02, 0.1, 0.5, 2];

const kinds = (s: MetricService): LabelSet[] => (CONNECTION_KINDS[s] ?? []).map((kind) => ({ kind }));

// ---------------------------------------------------------------- the catalog

const BOTH = ['broker', 'web'] as const;

export const METRICS = {
  // connections and sessions
  connections: {
    name: 'agent_bridge_connections',
    type: 'gauge',
    labels: ['kind'],
    help: 'open WebSocket connections by kind (broker: agent, client; web: client = browser sockets, upstream = sockets to the broker)',
    services: BOTH,
    init: kinds,
  },
  connectionsOpened: {
    name: 'agent_bridge_connections_opened_total',
    type: 'counter',
    labels: ['kind'],
    help: 'WebSocket connections accepted (or, for upstream, established)',
    services: BOTH,
    init: kinds,
  },
  closes: {
    name: 'agent_bridge_closes_total',
    type: 'counter',
    labels: ['kind', 'code'],
    help: 'WebSocket connections closed, by kind and close code (4000-4499 and 4500-4999 collapsed; see closeCodeLabel)',
    services: BOTH,
  },
  upgradesRejected: {
    name: 'agent_bridge_upgrades_rejected_total',
    type: 'counter',
    labels: ['kind', 'status'],
    help: 'WebSocket upgrades refused before the handshake, by kind and HTTP status',
    services: BOTH,
  },
  connectionsRefused: {
    name: 'agent_bridge_connections_refused_total',
    type: 'counter',
    labels: ['reason'],
    help: 'TCP connections refused at accept, by reason (max_connections, per_ip)',
    services: BOTH,
  },
  sessions: {
    name: 'agent_bridge_sessions',
    type: 'gauge',
    labels: ['state'],
    help: 'known client sessions: connected (a socket is open) or detached (resumable, waiting for SESSION_TTL_MS)',
    services: ['broker'],
    init: () => [{ state: 'connected' }, { state: 'detached' }],
  },
  agents: {
    name: 'agent_bridge_agents',
    type: 'gauge',
    labels: ['agent'],
    help: 'open agent connections per agent name (a pool has several; names bounded per process, the rest under _other)',
    services: ['broker'],
  },
  ready: {
    name: 'agent_bridge_ready',
    type: 'gauge',
    labels: [],
    help: '1 while /readyz answers 200, else 0 (draining after SIGTERM, Redis or broker unreachable)',
    services: BOTH,
  },

  // frames
  framesIn: {
    name: 'agent_bridge_frames_in_total',
    type: 'counter',
    labels: ['kind', 'type'],
    help: 'frames received, by kind of connection and frame type (invalid: failed validation; any: piped unparsed)',
    services: BOTH,
  },
  framesOut: {
    name: 'agent_bridge_frames_out_total',
    type: 'counter',
    labels: ['kind', 'type'],
    help: 'frames written to a socket, by kind of connection and frame type',
    services: BOTH,
  },
  bytesIn: {
    name: 'agent_bridge_bytes_in_total',
    type: 'counter',
    labels: ['kind'],
    help: 'payload bytes of frames received, by kind of connection',
    services: BOTH,
    init: kinds,
  },
  bytesOut: {
    name: 'agent_bridge_bytes_out_total',
    type: 'counter',
    labels: ['kind'],
    help: 'payload bytes of frames written, by kind of connection',
    services: BOTH,
    init: kinds,
  },
  errors: {
    name: 'agent_bridge_errors_total',
    type: 'counter',
    labels: ['code'],
    help: 'error frames sent, by error code',
    services: BOTH,
    init: () => ERROR_CODES.map((code) => ({ code })),
  },
  broadcastsDropped: {
    name: 'agent_bridge_broadcasts_dropped_total',
    type: 'counter',
    labels: [],
    help: 'broadcast frames dropped for slow consumers (§7; the client is told with messages.dropped)',
    services: ['broker'],
  },

  // resume, buffers, queues
  resumes: {
    name: 'agent_bridge_resumes_total',
    type: 'counter',
    labels: ['resumed', 'reason'],
    help: 'reconnects that asked to resume (lastSeq given), by outcome: resumed true (reason ok) or false (gap: frames gone; epoch_changed; unknown_session)',
    services: ['broker'],
    init: () => RESUME_REASONS.map((reason) => ({ resumed: String(reason === 'ok'), reason })),
  },
  resumeBufferBytes: {
    name: 'agent_bridge_resume_buffer_bytes',
    type: 'gauge',
    labels: [],
    help: 'bytes held in all resume buffers together (against RESUME_BUDGET_BYTES)',
    services: ['broker'],
  },
  resumeEvicted: {
    name: 'agent_bridge_resume_evicted_frames_total',
    type: 'counter',
    labels: [],
    help: 'frames evicted from resume buffers because RESUME_BUDGET_BYTES was reached',
    services: ['broker'],
  },
  mailboxFrames: {
    name: 'agent_bridge_mailbox_frames',
    type: 'gauge',
    labels: ['kind'],
    help: 'frames waiting in outbound mailboxes beyond the socket buffers, all connections of a kind together (§7)',
    services: ['broker'],
    init: kinds,
  },
  mailboxFramesMax: {
    name: 'agent_bridge_mailbox_frames_max',
    type: 'gauge',
    labels: ['kind'],
    help: 'the deepest single outbound mailbox of a kind, frames (MAILBOX_LIMIT is where slow consumers are closed 1013)',
    services: ['broker'],
    init: kinds,
  },
  waitQueueDepth: {
    name: 'agent_bridge_wait_queue_depth',
    type: 'gauge',
    labels: ['agent'],
    help: 'client messages waiting for an agent of that name to connect (names bounded per process, the rest under _other)',
    services: ['broker'],
  },
  waitQueueBytes: {
    name: 'agent_bridge_wait_queue_bytes',
    type: 'gauge',
    labels: [],
    help: 'bytes of client messages waiting for absent agents, all names (against WAIT_QUEUE_BUDGET_BYTES)',
    services: ['broker'],
  },
  capacityRefusals: {
    name: 'agent_bridge_capacity_refusals_total',
    type: 'counter',
    labels: ['budget'],
    help: 'work refused over_capacity, by budget (sessions, sessions_per_ip, agents, wait_queue, resume, outage_hold, upstream)',
    services: BOTH,
  },

  // acknowledgements (§8)
  framesAccepted: {
    name: 'agent_bridge_frames_accepted_total',
    type: 'counter',
    labels: ['from'],
    help: 'frames answered accepted (§8), by sender: client or agent',
    init: () => [{ from: 'client' }, { from: 'agent' }],
    services: ['broker'],
  },
  framesRedelivered: {
    name: 'agent_bridge_frames_redelivered_total',
    type: 'counter',
    labels: [],
    help: 'client.message frames delivered again (redelivered:true) because an opted-in agent connection went before acking (§8)',
    services: ['broker'],
  },
  framesDeduplicated: {
    name: 'agent_bridge_frames_deduplicated_total',
    type: 'counter',
    labels: ['from'],
    help: 'frames resent with an id already accepted: answered accepted again, delivered to nobody a second time (§8)',
    init: () => [{ from: 'client' }, { from: 'agent' }],
    services: ['broker'],
  },

  // latency
  deliveryLatency: {
    name: 'agent_bridge_delivery_latency_seconds',
    type: 'histogram',
    labels: ['kind'],
    help: 'broker receive to socket write of each delivered frame (the write that ends its turn), by kind of the receiving connection (mailbox wait included)',
    services: ['broker'],
    buckets: HOP_BUCKETS,
  },
  e2eLatency: {
    name: 'agent_bridge_e2e_latency_seconds',
    type: 'histogram',
    labels: ['direction'],
    help: "where both ends are ours: to_client = the broker's ts of a message to the web server's write to the browser (the write that ends its turn); to_agent = a client.message ts to the SDK handing it to the agent",
    services: ['web', 'sdk'],
    buckets: NET_BUCKETS,
  },
  heartbeatRtt: {
    name: 'agent_bridge_heartbeat_rtt_seconds',
    type: 'histogram',
    labels: ['kind'],
    help: 'ping to pong round trip on the connections a process pings, by kind',
    services: ['broker', 'web', 'sdk'],
    buckets: NET_BUCKETS,
  },

  // HTTP and sign-in
  httpRequests: {
    name: 'agent_bridge_http_requests_total',
    type: 'counter',
    labels: ['route', 'method', 'status'],
    help: 'HTTP requests by route group (first path segment of ours, else static), method and status',
    services: BOTH,
  },
  httpDuration: {
    name: 'agent_bridge_http_request_duration_seconds',
    type: 'histogram',
    labels: ['route'],
    help: 'HTTP request duration by route group',
    services: BOTH,
    buckets: HTTP_BUCKETS,
  },
  siweVerifications: {
    name: 'agent_bridge_siwe_verifications_total',
    type: 'counter',
    labels: ['outcome'],
    help: 'POST /auth/verify by outcome: ok, bad_request or the siwe_* code it was refused with',
    services: ['web'],
    init: () => SIWE_OUTCOMES.map((outcome) => ({ outcome })),
  },

  // web server pipe
  upstreamRedials: {
    name: 'agent_bridge_upstream_redials_total',
    type: 'counter',
    labels: [],
    help: 'upstream redial attempts after a drop or a failed dial',
    services: ['web'],
  },
  pipePauseCloses: {
    name: 'agent_bridge_pipe_pause_closes_total',
    type: 'counter',
    labels: [],
    help: 'pipes closed 1013 for staying paused longer than PIPE_PAUSE_MAX_MS',
    services: ['web'],
  },

  // cluster mode (§10)
  redisErrors: {
    name: 'agent_bridge_redis_errors_total',
    type: 'counter',
    labels: [],
    help: 'Redis commands that failed (cluster mode)',
    services: BOTH,
  },
  redisReconnects: {
    name: 'agent_bridge_redis_reconnects_total',
    type: 'counter',
    labels: [],
    help: 'Redis connections re-established after a loss (cluster mode)',
    services: BOTH,
  },
  crossBrokerLag: {
    name: 'agent_bridge_cross_broker_lag_seconds',
    type: 'histogram',
    labels: [],
    help: 'publish on one broker to receipt on another, for frames crossing brokers (cluster mode)',
    services: ['broker'],
    buckets: NET_BUCKETS,
  },
} as const satisfies Record<string, MetricSpec>;

export type MetricsCatalog = typeof METRICS;
export type MetricKey = keyof MetricsCatalog;

/**
 * prom-client's process defaults (CPU, RSS, heap, event-loop lag, GC) are registered with our
 * prefix too, so every family a service exports starts with `agent_bridge_` (§11).
 */
export const DEFAULT_METRICS_NOTE = `${METRIC_PREFIX}process_* and ${METRIC_PREFIX}nodejs_*: prom-client's process defaults (CPU, memory, event-loop lag, GC), every service`;

/** The catalog's families that one service exports. */
export function familiesOf(service: MetricService): Array<[MetricKey, MetricSpec]> {
  return (Object.entries(METRICS) as Array<[MetricKey, MetricSpec]>).filter(([, spec]) => spec.services.includes(service));
}

/** Series names a family exposes (a histogram is scraped as _bucket, _sum and _count). */
export function seriesNames(spec: MetricSpec): string[] {
  return spec.type === 'histogram' ? [`${spec.name}_bucket`, `${spec.name}_sum`, `${spec.name}_count`] : [spec.name];
}

/** The markdown table of docs/metrics.md (a test keeps the file equal to this). */
export function renderMetricsTable(): string {
  const rows = Object.values(METRICS as Record<string, MetricSpec>).map((s) => {
    const labels = s.labels.length ? s.labels.map((l) => `\`${l}\``).join(', ') : '—';
    const note = s.pending ? ` *(registered; moves once ${s.pending} lands)*` : '';
    return `| \`${s.name}\` | ${s.type} | ${labels} | ${s.services.join(', ')} | ${s.help.replaceAll('|', '\\|')}${note} |`;
  });
  return ['| name | type | labels | exported by | meaning |', '|---|---|---|---|---|', ...rows].join('\n');
}
