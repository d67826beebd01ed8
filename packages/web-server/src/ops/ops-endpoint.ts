/**
 * `GET /api/ops` (issue 15 item 4): the web server's own node and each broker's, fetched from the
 * broker's `/internal/ops` with PROXY_TOKEN. Behind OPS_TOKEN (constant-time); without OPS_TOKEN
 * the endpoint does not exist (404). Never cached. A broker that does not answer in time (or
 * answers something else) is listed in `unreachable` with its URL's host only.
 */
import { hostname } from 'node:os';
import type { RequestHandler } from 'express';
import { bearerToken, OPS_BROKER_PATH, OpsNode, tokenMatches, type OpsSnapshot } from '@agent-bridge/common';
import { EventRing, OpsHistory } from '@agent-bridge/common/metrics';
import { sendError } from '../http/errors.ts';
import type { WebMetrics } from '../http/metrics.ts';
import { brokerHttpUrl } from '../upstream/broker-url.ts';
import type { WebReadiness } from './readiness.ts';

/** What the web server remembers for the ops view: recent errors sent and closes seen. */
export class WebOps {
  readonly errors = new EventRing();
  readonly closes = new EventRing();
  readonly history: OpsHistory;
  private readonly startedAt = Date.now();

  constructor(
    private readonly metrics: WebMetrics,
    private readonly readiness: WebReadiness,
    /** `brokerUrls`: every broker of BROKER_URL (each is asked for its node). */
    private readonly opts: {
      brokerUrls: readonly string[];
      proxyToken: string;
      nodeId: () => string;
      /** Cluster mode (REDIS_URL set, or several brokers). */
      cluster?: boolean;
      timeoutMs?: number;
      sampleIntervalMs?: number;
    },
  ) {
    this.history = new OpsHistory({ framesIn: metrics.framesIn, framesOut: metrics.framesOut, latency: metrics.e2eLatency }, { intervalMs: opts.sampleIntervalMs });
  }

  async ownNode(): Promise<OpsNode> {
    const { ready, reasons } = await this.readiness.check();
    const byKind: Record<string, number> = {};
    for (const v of (await this.metrics.connections.get()).values) byKind[String(v.labels.kind)] = v.value;
    return {
      nodeId: this.opts.nodeId(),
      service: 'web',
      ready,
      reasons,
      uptimeS: Math.round((Date.now() - this.startedAt) / 1000),
      connections: byKind,
      recentErrors: this.errors.list(),
      recentCloses: this.closes.list(),
      now: this.history.latest(),
      sampleIntervalMs: this.history.intervalMs,
      history: this.history.history(),
    };
  }

  async snapshot(): Promise<OpsSnapshot> {
    const nodes: OpsNode[] = [await this.ownNode()];
    const unreachable: OpsSnapshot['unreachable'] = [];
    const answers = await Promise.all(this.opts.brokerUrls.map((url) => this.brokerNode(url)));
    for (const a of answers) {
      if ('node' in a) nodes.push(a.node);
      else unreachable.push(a.unreachable);
    }
    return { generatedAt: new Date().toISOString(), cluster: this.opts.cluster === true, nodes, unreachable };
  }

  private async brokerNode(brokerUrl: string): Promise<{ node: OpsNode } | { unreachable: OpsSnapshot['unreachable'][number] }> {
    const base = brokerHttpUrl(brokerUrl);
    const node = new URL(base).host;
    try {
      const res = await fetch(base + OPS_BROKER_PATH, {
        headers: { authorization: `Bearer ${this.opts.proxyToken}` },
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 2000),
      });
      const body: unknown = await res.json().catch(() => undefined);
      const parsed = OpsNode.safeParse(body);
      if (res.status === 200 && parsed.success) return { node: parsed.data };
      return { unreachable: { node, error: res.status === 200 ? 'malformed answer' : `HTTP ${res.status}` } };
    } catch (err) {
      return { unreachable: { node, error: (err as Error).name === 'TimeoutError' ? 'timeout' : 'unreachable' } };
    }
  }
}

export function opsEndpoint(token: string | undefined, ops: WebOps): RequestHandler {
  return (req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    if (token === undefined) return sendError(res, 404, 'not_found', 'no such API endpoint');
    if (!tokenMatches(bearerToken(req.get('authorization')), [token])) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      return sendError(res, 401, 'unauthorized', 'Authorization: Bearer <OPS_TOKEN> is required');
    }
    ops.snapshot().then((snap) => res.json(snap), next);
  };
}

export const defaultNodeId = (port: number): string => `web@${hostname()}:${port}`;
