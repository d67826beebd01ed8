/**
 * `GET /api/ops` (issue 15 item 4): what the ops view shows, behind `Authorization: Bearer
 * <OPS_TOKEN>` (constant-time check; no OPS_TOKEN set = the endpoint and the page answer 404).
 * The web server answers with its own node and, fetched from each broker it knows, theirs (one
 * per process in cluster mode). Browser-safe: the SPA validates the answer with the same schema.
 *
 * Nothing here identifies a user: no clientId, address or IP; agent names and trace ids only.
 */
import { z } from 'zod';

export const OPS_PATH = '/api/ops';
/** A broker's own part, fetched by the web server with PROXY_TOKEN (internal, like /internal/clients). */
export const OPS_BROKER_PATH = '/internal/ops';

const count = z.number().int().nonnegative();
/** A rate or latency not yet known (no traffic since start, no histogram sample) is null. */
const measure = z.number().nonnegative().nullable();

export const OpsAgentName = z.object({
  name: z.string(),
  /** Open connections of the name (a pool has several). 0: clients asking for it wait. */
  connections: count,
  /** Client messages waiting for a connection of the name. */
  waiting: count,
});

export const OpsEvent = z.object({
  ts: z.string(),
  /** An error code (errors) or a close code as text (closes). */
  code: z.string(),
  /** Kind of connection: agent, client, upstream. */
  kind: z.string(),
  /** The agent name concerned, when there is one. */
  agent: z.string().optional(),
  /** The trace id of the frame concerned: grep it in the three processes' logs. */
  traceId: z.string().optional(),
  detail: z.string().max(200).optional(),
});

/** One sample of the recent history; one every `OpsNode.sampleIntervalMs`, oldest first. */
export const OpsSample = z.object({
  /** Unix time, ms. */
  t: z.number(),
  framesInPerSec: measure,
  framesOutPerSec: measure,
  deliveryP50Ms: measure,
  deliveryP99Ms: measure,
});

export const OpsNode = z.object({
  nodeId: z.string(),
  service: z.enum(['broker', 'web']),
  ready: z.boolean(),
  /** Why not ready (empty when ready): as /readyz says. */
  reasons: z.array(z.string()),
  uptimeS: z.number().nonnegative(),
  /** Open connections by kind (broker: agent, client; web: client, upstream). */
  connections: z.record(z.string(), count),
  /** Broker only. */
  sessions: z.object({ connected: count, detached: count }).optional(),
  /** Broker only: every agent name with connections or waiting messages (pools and wait queues). */
  agents: z.array(OpsAgentName).optional(),
  /** Most recent first, at most 50 each. */
  recentErrors: z.array(OpsEvent),
  recentCloses: z.array(OpsEvent),
  /** The last sample's values, for the headline numbers. */
  now: OpsSample,
  sampleIntervalMs: z.number().int().positive(),
  /** The last minutes, oldest first (at most 360 samples). */
  history: z.array(OpsSample).max(360),
});

export const OpsSnapshot = z.object({
  generatedAt: z.string(),
  /** True in cluster mode (REDIS_URL set). */
  cluster: z.boolean(),
  nodes: z.array(OpsNode),
  /** Brokers the web server could not ask (their URL with the credentials left out, and why). */
  unreachable: z.array(z.object({ node: z.string(), error: z.string() })),
});

export type OpsAgentName = z.infer<typeof OpsAgentName>;
export type OpsEvent = z.infer<typeof OpsEvent>;
export type OpsSample = z.infer<typeof OpsSample>;
export type OpsNode = z.infer<typeof OpsNode>;
export type OpsSnapshot = z.infer<typeof OpsSnapshot>;
