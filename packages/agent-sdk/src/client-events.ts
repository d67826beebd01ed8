/**
 * The `system` events an agent gets about clients (PROTOCOL §3 "Bridge → agent"), as common's
 * schemas define them: the bridge → agent union has already checked each known event's fields,
 * so listeners of `client.*` can rely on `clientId` (and `address`, `resumed`, `resumable` where
 * the event has them). Unknown extra fields are kept (loose objects): the contract may add them.
 */
import { z } from 'zod';
import {
  ClientAuthenticatedEvent as AuthenticatedSchema,
  ClientConnectedEvent as ConnectedSchema,
  ClientDisconnectedEvent as DisconnectedSchema,
  ClientExpiredEvent as ExpiredSchema,
  ClientSignedOutEvent as SignedOutSchema,
} from '@agent-bridge/common/protocol';

export const ClientConnectedEvent = ConnectedSchema;
export const ClientDisconnectedEvent = DisconnectedSchema;
export const ClientExpiredEvent = ExpiredSchema;
export const ClientAuthenticatedEvent = AuthenticatedSchema;
export const ClientSignedOutEvent = SignedOutSchema;

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
