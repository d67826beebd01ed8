/** Prometheus metrics of one web server (its own registry, so several can share a process). */
import type { RequestHandler } from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class WebMetrics {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({
    name: 'web_http_requests_total',
    help: 'HTTP requests by method, route group and status',
    labelNames: ['method', 'group', 'status'] as const,
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'web_http_request_duration_seconds',
    help: 'HTTP request duration by route group',
    labelNames: ['group'] as const,
    buckets: [0.001, 0.005, 0.02, 0.1, 0.5, 2],
    registers: [this.registry],
  });
  readonly browserSockets = new Gauge({ name: 'web_browser_sockets', help: 'open browser WebSockets', registers: [this.registry] });
  readonly upstreamsOpen = new Gauge({ name: 'web_upstreams_open', help: 'open upstream WebSockets to the broker', registers: [this.registry] });
  readonly upgradesRejected = new Counter({
    name: 'web_ws_upgrades_rejected_total',
    help: 'refused browser WebSocket upgrades by status',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });
  readonly upstreamRedials = new Counter({ name: 'web_upstream_redials_total', help: 'upstream redial attempts after a drop or failed dial', registers: [this.registry] });
  readonly framesForwarded = new Counter({
    name: 'web_frames_forwarded_total',
    help: 'frames piped, by direction',
    labelNames: ['direction'] as const,
    registers: [this.registry],
  });
  readonly outageRejected = new Counter({ name: 'web_outage_frames_rejected_total', help: 'browser frames refused because the outage hold was full', registers: [this.registry] });
  readonly framesRateLimited = new Counter({ name: 'web_frames_rate_limited_total', help: 'browser frames refused by the edge rate limit', registers: [this.registry] });
  readonly pauseLimitClosed = new Counter({ name: 'web_pipes_pause_limit_closed_total', help: 'pipes closed 1013 for staying paused longer than PIPE_PAUSE_MAX_MS', registers: [this.registry] });
  readonly upstreamOverCapacity = new Counter({ name: 'web_upstream_over_capacity_total', help: 'upstream dials the broker refused with 503 over_capacity', registers: [this.registry] });
  readonly connectionsRefused = new Counter({
    name: 'web_connections_refused_total',
    help: 'TCP connections refused at accept, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** Counts every request once it finished; `group` is the first path segment, never the full path. */
  middleware(): RequestHandler {
    return (req, res, next) => {
      const end = this.httpDuration.startTimer();
      res.on('finish', () => {
        const group = routeGroup(req.path);
        end({ group });
        this.httpRequests.inc({ method: req.method, group, status: String(res.statusCode) });
      });
      next();
    };
  }
}

function routeGroup(path: string): string {
  const first = path.split('/')[1] ?? '';
  return ['api', 'auth', 'ws', 'healthz', 'metrics', 'assets'].includes(first) ? first : 'static';
}
