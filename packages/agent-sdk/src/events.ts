/** The events an `Agent` emits, with their payloads (`agent.on(name, (...args) => …)`). */
import type { AgentWelcomeFrame, ClientCancelToAgentFrame, SystemFrame } from '@agent-bridge/common/protocol';
import type {
  ClientAuthenticatedEvent,
  ClientConnectedEvent,
  ClientDisconnectedEvent,
  ClientExpiredEvent,
  ClientSignedOutEvent,
} from './client-events.ts';
import type { ClientMessageEvent } from './message-acks.ts';

/**
 * An `error` frame from the bridge (`type: 'error'`, a protocol ErrorCode, `ref` = the id of the
 * frame it answers, `clientIds` for `unknown_client`), or a local error (no `type`, an
 * AgentSdkErrorCode).
 */
export interface AgentErrorEvent {
  type?: 'error';
  code: string;
  message: string;
  ref?: string;
  clientIds?: string[];
}

export interface ReconnectingEvent {
  /** 1 for the first redial after a connection was lost, counting up until a welcome arrives. */
  attempt: number;
  delayMs: number;
  /** Close code of the connection (or failed dial, 1006) that caused this redial. */
  code: number;
}

export interface CloseEvent {
  code: number;
  reason: string;
  /** false: the agent has stopped for good (close(), 1000/1008/1009/45xx, 401 …); nothing follows. */
  willReconnect: boolean;
}

export interface UnauthorizedEvent {
  /** HTTP status of the refused upgrade (401). */
  status: number;
  code: string;
  message: string;
}

export type AgentEvents = {
  /** The WebSocket is open; the welcome follows. */
  open: [];
  /** The bridge accepted us; the outbox has just been flushed. Fires again after every redial. */
  welcome: [AgentWelcomeFrame];
  /**
   * A client's message. With §8 acks (the default) it is acknowledged once every listener has
   * returned (async: settled), or earlier by `msg.ack()`; `msg.redelivered` is true when the
   * bridge delivers it again because an earlier connection went before acknowledging it.
   */
  message: [ClientMessageEvent];
  /** A client cancelled a run (§9); a run writer of that runId has already aborted its signal. */
  'client.cancel': [ClientCancelToAgentFrame];
  'client.connected': [ClientConnectedEvent];
  'client.disconnected': [ClientDisconnectedEvent];
  'client.expired': [ClientExpiredEvent];
  'client.authenticated': [ClientAuthenticatedEvent];
  'client.signed_out': [ClientSignedOutEvent];
  /** Every system frame, including the client.* ones above (emitted after them). */
  system: [SystemFrame];
  error: [AgentErrorEvent];
  reconnecting: [ReconnectingEvent];
  close: [CloseEvent];
  /** The broker refused the token (HTTP 401). The agent stops: no redial. */
  unauthorized: [UnauthorizedEvent];
};
