/**
 * The web server's metrics: the catalog's `web` families (common/metrics-catalog.ts, documented in
 * docs/metrics.md) on one Registry per web server, so several can share a test process.
 */
import type { RequestHandler } from 'express';
import { createServiceMetrics, routeLabel, statusLabel, type ServiceMetrics } from '@agent-bridge/common/metrics';

export type WebMetrics = ServiceMetrics<'web'>;

export interface WebMetricsOptions {
  /** METRICS=off: per-frame families do nothing (cost comparison). */
  perFrame?: boolean;
  /** Read at scrape time: what /readyz would answer. */
  ready: () => Promise<boolean>;
}

export function createWebMetrics(opts: WebMetricsOptions): WebMetrics {
  return createServiceMetrics('web', {
    perFrame: opts.perFrame,
    collect: {
      ready: async (g) => g.set((await opts.ready()) ? 1 : 0),
    },
  });
}

/** Counts every request once it finished, by route group (never the full path), method and status. */
export function httpMetrics(m: WebMetrics): RequestHandler {
  return (req, res, next) => {
    const end = m.httpDuration.startTimer();
    res.on('finish', () => {
      const route = routeLabel(req.path);
      end({ route });
      m.httpRequests.inc({ route, method: req.method, status: statusLabel(res.statusCode) });
    });
    next();
  };
}
