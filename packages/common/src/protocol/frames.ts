/**
 * zod schemas for every frame of the wire contract (PROTOCOL §3), with inferred types.
 * Inbound schemas (what the bridge accepts) are strict about required fields and lenient about
 * unknown optional ones, as the contract says; outbound schemas document what we emit and let
 * SDKs and tests validate it.
 */
import { z } from 'zod';
import { FrameType, type SystemEvent } from './codes.ts';

/**
 * What a builder of an outbound frame may pass for schema `S` (`satisfies FrameInput<typeof X>`),
 * for packages that do not depend on zod themselves.
 */
export type FrameInput<S extends z.ZodType> = z.input<S>;

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
const meta = z
  // A plain-object check, not z.record: that walks every key and value of every frame's `_meta`
  // through two schemas (~150 ns a frame at the broker, issue 15 item 7) to accept anything anyway.
  .custom<Record<string, unknown>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), { error: 'Invalid input: expected record' })
  .optional();

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
/** Most ids one agent `ack` frame may carry in `ids` (PROTOCOL §8 extension, docs/protocol.md). */
export const ACK_IDS_MAX = 1000;
/**
 * §8: an opted-in agent connection (X-Agent-Acks: 1) acknowledges a client.message by its id.
 * Not (yet) part of AgentFrame: a receiver that handles acks parses with AgentInboundFrame.
 */
export const AgentAckFrame = z.object({
  type: z.literal(FrameType.ack),
  id: z.string().min(1).max(128),
  /**
   * Our extension (§8): more client.message ids acknowledged by the same frame, so a turn's acks
   * are one frame. Only to a broker whose welcome said `ackIds: true` (an older one would ignore
   * the list and redeliver those messages later).
   */
  ids: z.array(z.string().min(1).max(128)).min(1).max(ACK_IDS_MAX).optional(),
});
export type AgentAckFrame = z.infer<typeof AgentAckFrame>;
export const AgentFrame = z.discriminatedUnion('type', [AgentSendFrame, AgentBroadcastFrame]);
/** Everything an agent connection may send: AgentFrame plus the §8 `ack`. */
export const AgentInboundFrame = z.discriminatedUnion('type', [AgentSendFrame, AgentBroadcastFrame, AgentAckFrame]);
export type AgentInboundFrame = z.infer<typeof AgentInboundFrame>;
export type AgentSendFrame = z.infer<typeof AgentSendFrame>;
export type AgentBroadcastFrame = z.infer<typeof AgentBroadcastFrame>;
/** Anything an agent runtime may send. */
export type AgentMessage = z.infer<typeof AgentFrame>;

// ---------- bridge → client ----------
/**
 * Our extension (§8, `?accepted=inline`): ids of the client's messages accepted just before this
 * frame, carried as its last member instead of one `accepted` frame each.
 */
const carriedAccepted = z.array(z.string().min(1).max(128)).min(1).optional();
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
  /** Our extension (§8): the bridge answers `accepted` and de-duplicates resent ids. */
  acks: z.boolean().optional(),
});
export const DeliveredMessageFrame = z.object({
  type: z.literal(FrameType.message),
  seq: z.number().int().positive(),
  /** A coalesced run delta (§9): the inclusive seq range it stands for (`seq` is the last). */
  merged: z.tuple([z.number().int().positive(), z.number().int().positive()]).optional(),
  id: z.string(),
  from: z.string(),
  data: z.unknown(),
  ts,
  _meta: meta,
  accepted: carriedAccepted,
});
/**
 * Any `system` frame, whatever its event: what a receiver that must tolerate new event names
 * (the contract may add them) parses with. The typed events are below.
 */
export const SystemFrame = z.looseObject({
  type: z.literal(FrameType.system),
  seq: z.number().int().positive().optional(),
  event: z.string(),
  ts: ts.optional(),
  accepted: carriedAccepted,
});

// ---------- system events, each with its fields ----------
const seq = z.number().int().positive();
/** Each system event's own fields (beside type, seq, event, ts). */
const EVENT_FIELDS = {
  // to clients
  'agent.connected': { agent: z.string() },
  'agent.disconnected': { agent: z.string() },
  'messages.dropped': { count: z.number().int().positive(), fromSeq: seq, toSeq: seq },
  // to clients, from the web server (no seq)
  'bridge.reconnecting': { retryInMs: z.number().nonnegative() },
  'bridge.reconnected': { epoch: z.string(), resumed: z.boolean(), lastSeq: z.number().int().nonnegative() },
  // to agents
  'client.connected': { clientId, address, resumed: z.boolean() },
  'client.disconnected': { clientId, resumable: z.boolean() },
  'client.expired': { clientId },
  'client.authenticated': { clientId, address: z.string() },
  'client.signed_out': { clientId },
} as const satisfies Record<SystemEvent, z.core.$ZodLooseShape>;
type EventFields = typeof EVENT_FIELDS;

/** A system event: `seq` on the broker's events to clients, none on the web server's `bridge.*`. */
const systemEvent = <E extends SystemEvent>(event: E) =>
  z.looseObject({ type: z.literal(FrameType.system), seq: seq.optional(), event: z.literal(event), ...EVENT_FIELDS[event], ts, accepted: carriedAccepted });

export const AgentConnectedEvent = systemEvent('agent.connected');
export const AgentDisconnectedEvent = systemEvent('agent.disconnected');
export const MessagesDroppedEvent = systemEvent('messages.dropped');
export const BridgeReconnectingEvent = systemEvent('bridge.reconnecting');
export const BridgeReconnectedEvent = systemEvent('bridge.reconnected');
export const ClientConnectedEvent = systemEvent('client.connected');
export const ClientDisconnectedEvent = systemEvent('client.disconnected');
export const ClientExpiredEvent = systemEvent('client.expired');
export const ClientAuthenticatedEvent = systemEvent('client.authenticated');
export const ClientSignedOutEvent = systemEvent('client.signed_out');

/** Every system event the bridge emits, by event name. */
export const SystemEventFrame = z.discriminatedUnion('event', [
  AgentConnectedEvent,
  AgentDisconnectedEvent,
  MessagesDroppedEvent,
  BridgeReconnectingEvent,
  BridgeReconnectedEvent,
  ClientConnectedEvent,
  ClientDisconnectedEvent,
  ClientExpiredEvent,
  ClientAuthenticatedEvent,
  ClientSignedOutEvent,
]);
export type SystemEventFrame = z.infer<typeof SystemEventFrame>;
/** The fields of one event as a builder passes them (no type, seq, event or ts). */
export type SystemEventFields<E extends SystemEvent> = z.input<z.ZodObject<EventFields[E]>>;
const KNOWN_EVENTS = new Map(SystemEventFrame.options.map((o) => [o.shape.event.value as string, o]));

/**
 * A `system` frame in the bridge → peer unions: a known event must carry its fields (as
 * SystemEventFrame says); an event this version does not know passes as a SystemFrame, so a
 * newer bridge's events never break an older parser.
 */
const CheckedSystemFrame = SystemFrame.superRefine((f, ctx) => {
  const schema = KNOWN_EVENTS.get(f.event);
  if (!schema) return;
  const r = schema.safeParse(f);
  if (!r.success) for (const issue of r.error.issues) ctx.addIssue({ ...issue, code: 'custom', message: issue.message });
});
/**
 * §8: the frame whose `id` is `ref` is stored for delivery (to clients and agents). Carries no
 * seq and is never replayed.
 */
export const AcceptedFrame = z.object({
  type: z.literal(FrameType.accepted),
  ref: z.string(),
});
export type AcceptedFrame = z.infer<typeof AcceptedFrame>;
export const ErrorFrame = z.object({
  type: z.literal(FrameType.error),
  code: z.string(),
  message: z.string(),
  ref: z.string().optional(),
  clientIds: z.array(z.string()).optional(),
  accepted: carriedAccepted,
});
export const BridgeToClientFrame = z.discriminatedUnion('type', [
  ClientWelcomeFrame,
  DeliveredMessageFrame,
  CheckedSystemFrame,
  ErrorFrame,
  AcceptedFrame,
]);
export type ClientWelcomeFrame = z.infer<typeof ClientWelcomeFrame>;
export type DeliveredMessageFrame = z.infer<typeof DeliveredMessageFrame>;
export type SystemFrame = z.infer<typeof SystemFrame>;
export type ErrorFrame = z.infer<typeof ErrorFrame>;
export type BridgeToClientFrame = z.infer<typeof BridgeToClientFrame>;

// ---------- bridge → agent ----------
export const ClientInfo = z.object({
  clientId,
  address,
  /** Our extension in the welcome's list: whether the session has a socket now (else it is resumable). */
  connected: z.boolean().optional(),
});
export type ClientInfo = z.infer<typeof ClientInfo>;
export const AgentWelcomeFrame = z.object({
  type: z.literal(FrameType.welcome),
  agent: z.string(),
  agentId: z.string(),
  clients: z.array(ClientInfo),
  heartbeatMs: z.number().int().positive().optional(),
  /** Our extension: true when `clients` frames follow with the rest of the list. */
  more: z.boolean().optional(),
  /** Our extension (§8): true when this connection opted in to acks and the broker honours them. */
  acks: z.boolean().optional(),
  /** Our extension (§8): with `acks`, the broker also reads an `ack`'s `ids` list (AgentAckFrame). */
  ackIds: z.boolean().optional(),
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
  /** §8: delivered again because an opted-in connection went before acknowledging it. */
  redelivered: z.boolean().optional(),
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
  CheckedSystemFrame,
  ErrorFrame,
  ClientCancelToAgentFrame,
  AcceptedFrame,
]);
export type AgentWelcomeFrame = z.infer<typeof AgentWelcomeFrame>;
export type ClientMessageToAgentFrame = z.infer<typeof ClientMessageToAgentFrame>;
export type BridgeToAgentFrame = z.infer<typeof BridgeToAgentFrame>;
