/**
 * The `system` events an agent gets about clients (PROTOCOL §3 "Bridge → agent"), validated so
 * that listeners of `client.*` can rely on `clientId` (and `address` where the event has one).
 * Unknown optional fields are kept (loose objects): the contract may add them.
 */
import { z } from 'zod';
import { FrameType, type SystemEvent } from '@agent-bridge/common/protocol';

const base = { type: z.literal(FrameType.system), seq: z.number().optional(), ts: z.string().optional(), clientId: z.string().min(1) };
const address = z.string().nullable();

export const ClientConnectedEvent = z.looseObject({
  ...base,
  event: z.literal('client.connected' satisfies SystemEvent),
  address: address.optional().default(null),
  resumed: z.boolean().optional().default(false),
});
export const ClientDisconnectedEvent = z.looseObject({
  ...base,
  event: z.literal('client.disconnected' satisfies SystemEvent),
  resumable: z.boolean().optional().default(true),
});
export const ClientExpiredEvent = z.looseObject({ ...base, event: z.literal('client.expired' satisfies SystemEvent) });
export const ClientAuthenticatedEvent = z.looseObject({
  ...base,
  event: z.literal('client.authenticated' satisfies SystemEvent),
  address: z.string(),
});
export const ClientSignedOutEvent = z.looseObject({ ...base, event: z.literal('client.signed_out' satisfies SystemEvent) });

export const ClientEvent = z.discriminatedUnion('event', [
  ClientConnectedEvent,
  ClientDisconnectedEvent,
  ClientExpiredEvent,
  ClientAuthenticatedEvent,
  ClientSignedOutEvent,
]);

export type ClientConnectedEvent = z.infer<typeof ClientConnectedEvent>;
export type ClientDisconnectedEvent = z.infer<typeof ClientDisconnectedEvent>;
export type ClientExpiredEvent = z.infer<typeof ClientExpiredEvent>;
export type ClientAuthenticatedEvent = z.infer<typeof ClientAuthenticatedEvent>;
export type ClientSignedOutEvent = z.infer<typeof ClientSignedOutEvent>;
export type ClientEvent = z.infer<typeof ClientEvent>;
