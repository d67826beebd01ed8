/**
 * zod schemas for every frame of the wire contract (PROTOCOL §3), with inferred types.
 * Inbound schemas (what the bridge accepts) are strict about required fields and lenient about
 * unknown optional ones, as the contract says; outbound schemas document what we emit and let
 * SDKs and tests validate it.
 */
import { z } from 'zod';
import { FrameType } from './codes.ts';

/** `data` is any JSON value, but it must be present. */
const data = z.unknown().refine((v) => v !== undefined, { message: 'data is required' });
const ref = z.string().min(1).max(128);
export const agentName = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,64}$/, 'agent name: 1-64 of A-Z a-z 0-9 . _ -');
export const clientId = z.string().min(1).max(128);
const ts = z.string();
const address = z.string().nullable();
/**
 * W3C trace context (PROTOCOL §11, protocol/trace.ts): `{traceparent, tracestate, …}`, passed
 * through unchanged to the frame's recipients. Any object is accepted here; an invalid
 * traceparent only means the bridge starts a trace of its own.
 */
const meta = z.record(z.string(), z.unknown()).optional();

// ---------- client → bridge ----------
export const ClientMessageFrame = z.object({
  type: z.literal(FrameType.message),
  id: ref.optional(),
  agent: agentName.optional(),
  data,
  _meta: meta,
});
export const ClientAckFrame = z.object({
  type: z.literal(FrameType.ack),
  seq: z.number().int().nonnegative(),
});
/** Stop a run (§9): routed to the run's agent as `client.cancel`. */
export const ClientCancelFrame = z.object({
  type: z.literal(FrameType.cancel),
  runId: z.string().min(1).max(256),
  agent: agentName.optional(),
  id: ref.optional(),
  _meta: meta,
});
export type ClientCancelFrame = z.infer<typeof ClientCancelFrame>;
export const ClientFrame = z.discriminatedUnion('type', [ClientMessageFrame, ClientAckFrame, ClientCancelFrame]);
export type ClientMessageFrame = z.infer<typeof ClientMessageFrame>;
export type ClientAckFrame = z.infer<typeof ClientAckFrame>;
/** Anything a browser client may send. */
export type ClientMessage = z.infer<typeof ClientFrame>;

// ---------- agent → bridge ----------
export const AgentSendFrame = z.object({
  type: z.literal(FrameType.send),
  id: ref.optional(),
  to: z.union([clientId, z.array(clientId).min(1).max(10_000)]),
  data,
  _meta: meta,
});
export const AgentBroadcastFrame = z.object({
  type: z.literal(FrameType.broadcast),
  id: ref.optional(),
  data,
  except: z.array(clientId).max(10_000).optional(),
  _meta: meta,
});
export const AgentFrame = z.discriminatedUnion('type', [AgentSendFrame, AgentBroadcastFrame]);
export type AgentSendFrame = z.infer<typeof AgentSendFrame>;
export type AgentBroadcastFrame = z.infer<typeof AgentBroadcastFrame>;
/** Anything an agent runtime may send. */
export type AgentMessage = z.infer<typeof AgentFrame>;

// ---------- bridge → client ----------
export const ClientWelcomeFrame = z.object({
  type: z.literal(FrameType.welcome),
  clientId,
  epoch: z.string(),
  resumed: z.boolean(),
  replayed: z.number().int().nonnegative(),
  lastSeq: z.number().int().nonnegative(),
  heartbeatMs: z.number().int().positive(),
  agents: z.array(z.string()),
  address: address.optional(),
});
export const DeliveredMessageFrame = z.object({
  type: z.literal(FrameType.message),
  seq: z.number().int().positive(),
  id: z.string(),
  from: z.string(),
  data: z.unknown(),
  ts,
  _meta: meta,
});
export const SystemFrame = z.looseObject({
  type: z.literal(FrameType.system),
  seq: z.number().int().positive().optional(),
  event: z.string(),
  ts: ts.optional(),
});
export const ErrorFrame = z.object({
  type: z.literal(FrameType.error),
  code: z.string(),
  message: z.string(),
  ref: z.string().optional(),
  clientIds: z.array(z.string()).optional(),
});
export const BridgeToClientFrame = z.discriminatedUnion('type', [
  ClientWelcomeFrame,
  DeliveredMessageFrame,
  SystemFrame,
  ErrorFrame,
]);
export type ClientWelcomeFrame = z.infer<typeof ClientWelcomeFrame>;
export type DeliveredMessageFrame = z.infer<typeof DeliveredMessageFrame>;
export type SystemFrame = z.infer<typeof SystemFrame>;
export type ErrorFrame = z.infer<typeof ErrorFrame>;
/** System frames as seen by either side. */
export type SystemMessage = SystemFrame;
export type BridgeToClientFrame = z.infer<typeof BridgeToClientFrame>;

// ---------- bridge → agent ----------
export const ClientInfo = z.object({ clientId, address });
export type ClientInfo = z.infer<typeof ClientInfo>;
export const AgentWelcomeFrame = z.object({
  type: z.literal(FrameType.welcome),
  agent: z.string(),
  agentId: z.string(),
  clients: z.array(ClientInfo),
  heartbeatMs: z.number().int().positive().optional(),
  /** Our extension: true when `clients` frames follow with the rest of the list. */
  more: z.boolean().optional(),
});
/** The rest of the client list, paged so no frame exceeds MAX_MESSAGE_BYTES (our extension). */
export const AgentClientsFrame = z.object({
  type: z.literal(FrameType.clients),
  clients: z.array(ClientInfo),
  more: z.boolean(),
});
export type AgentClientsFrame = z.infer<typeof AgentClientsFrame>;
export const ClientMessageToAgentFrame = z.object({
  type: z.literal(FrameType.clientMessage),
  id: z.string(),
  ref: z.string().optional(),
  clientId,
  address,
  data: z.unknown(),
  ts,
  _meta: meta,
});
/** A client's `cancel`, to the connection of the run's agent pinned for that client (§9). */
export const ClientCancelToAgentFrame = z.object({
  type: z.literal(FrameType.clientCancel),
  clientId,
  address,
  runId: z.string(),
  ts,
  _meta: meta,
});
export type ClientCancelToAgentFrame = z.infer<typeof ClientCancelToAgentFrame>;
export const BridgeToAgentFrame = z.discriminatedUnion('type', [
  AgentWelcomeFrame,
  AgentClientsFrame,
  ClientMessageToAgentFrame,
  SystemFrame,
  ErrorFrame,
  ClientCancelToAgentFrame,
]);
export type AgentWelcomeFrame = z.infer<typeof AgentWelcomeFrame>;
export type ClientMessageToAgentFrame = z.infer<typeof ClientMessageToAgentFrame>;
export type BridgeToAgentFrame = z.infer<typeof BridgeToAgentFrame>;
