import type { DeliveredMessageFrame, ErrorFrame, SystemFrame, ClientWelcomeFrame } from './frames.ts';

export type { DeliveredMessageFrame, ErrorFrame, SystemFrame, ClientWelcomeFrame };

/** Where the connection stands, as a person would describe it. */
export type BridgeStatus =
  | { state: 'connecting' }
  | { state: 'connected' }
  /**
   * `cause: 'socket'`: our own WebSocket is down and we redial in `inMs`.
   * `cause: 'bridge'`: our socket is up but the web server lost the broker (`bridge.reconnecting`).
   * `at` is the wall-clock time (ms) of the next attempt, for a countdown.
   */
  | { state: 'reconnecting'; inMs: number; at: number; cause: 'socket' | 'bridge' }
  /**
   * Not trying any more: `close()` was called, the server said "do not reconnect" (`code` is the
   * close code), or it refused the WebSocket upgrade in a way a retry cannot change (`refusal`).
   */
  | { state: 'offline'; reason: string; code?: number; refusal?: UpgradeRefusal };

/**
 * The web server refused our WebSocket upgrade (a browser only sees close 1006; the client asks
 * `POST /api/ws-check` why). `hint` says, for a person, what to do about it.
 */
export interface UpgradeRefusal {
  /** HTTP status the upgrade got: 401 (session token refused), 403 (this page's Origin is not allowed), … */
  status: number;
  /** The server's error code, e.g. `unauthorized`, `forbidden`. */
  code: string;
  message: string;
  hint: string;
}

/** What the client needs of `sessionStorage` (any Web Storage object fits). */
export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** The conversation may have a hole: show "some messages may be missing". */
export interface GapEvent {
  reason: 'not_resumed' | 'new_session' | 'dropped';
  /** For `dropped`: how many broadcasts were dropped. */
  count?: number;
}

/** Errors the client itself reports, besides the bridge's `error` frames. */
export const ClientErrorCode = {
  register_failed: 'POST /api/clients failed; retrying with backoff',
  outbox_full: 'outboxLimit messages are already waiting for the bridge (disconnected, or not yet accepted); this one was not sent',
  closed: 'the server closed the connection with a code that says "do not reconnect"',
  upgrade_refused: 'the web server refused the WebSocket upgrade (401/403 …) in a way retrying cannot change; the client stopped',
  bad_frame: 'the server sent a frame that is not a JSON object with a type',
} as const;
export type ClientErrorCode = keyof typeof ClientErrorCode;

export interface ClientError {
  code: ClientErrorCode | string;
  message: string;
  ref?: string;
  /** The bridge's own frame, when the error came from the wire. */
  frame?: ErrorFrame;
}

export interface WelcomeEvent extends ClientWelcomeFrame {
  /** True when this welcome means frames may have been missed (resumed:false after a session). */
  gap: boolean;
}

export interface BridgeClientEvents extends Record<string, unknown> {
  status: BridgeStatus;
  welcome: WelcomeEvent;
  message: DeliveredMessageFrame;
  system: SystemFrame;
  error: ClientError;
  gap: GapEvent;
  /** The agent names currently connected (from welcome and agent.* events). */
  agents: string[];
  /** Our own outgoing message, once accepted by send() (lets views show it at once). */
  sent: { id: string; data: unknown; agent?: string };
  /** §8: the bridge stored the message (or cancel) with this id for delivery; it will not be resent. */
  accepted: { ref: string };
}

/** The subset of the DOM WebSocket we use; `ws` from npm satisfies it too. */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;
