/**
 * The frames the bridge sends a browser client (PROTOCOL §3), as plain interfaces.
 *
 * They mirror common's zod schemas (`z.infer<typeof ClientWelcomeFrame>` …) but are written out
 * so that the published package's types need no zod: the client itself never parses with zod.
 * test/frames-match-common.test.ts fails to type-check if the two drift apart.
 */
export interface ClientWelcomeFrame {
  type: 'welcome';
  clientId: string;
  /** Changes whenever the seq space restarts (a resume across epochs is not possible). */
  epoch: string;
  resumed: boolean;
  replayed: number;
  lastSeq: number;
  heartbeatMs: number;
  /** Agent names connected right now. */
  agents: string[];
  /** The signed-in wallet (EIP-55), when the session token carries one. */
  address?: string | null | undefined;
  /** §8 (our extension): the bridge answers `accepted` and de-duplicates resent ids. */
  acks?: boolean | undefined;
}

export interface DeliveredMessageFrame {
  type: 'message';
  seq: number;
  id: string;
  /** The agent name that sent it. */
  from: string;
  data: unknown;
  ts: string;
  /** §8 (our extension, `accepted=inline`): ids of messages accepted just before this frame. */
  accepted?: string[] | undefined;
}

export interface SystemFrame {
  type: 'system';
  seq?: number | undefined;
  /** `agent.connected`, `agent.disconnected`, `bridge.reconnecting`, `bridge.reconnected`, `messages.dropped`, … */
  event: string;
  ts?: string | undefined;
  /** §8 (our extension, `accepted=inline`): ids of messages accepted just before this frame. */
  accepted?: string[] | undefined;
  [field: string]: unknown;
}

export interface ErrorFrame {
  type: 'error';
  code: string;
  message: string;
  ref?: string | undefined;
  clientIds?: string[] | undefined;
  /** §8 (our extension, `accepted=inline`): ids of messages accepted just before this frame. */
  accepted?: string[] | undefined;
}

/** §8: the message (or cancel) whose `id` is `ref` is stored for delivery. No seq, never replayed. */
export interface AcceptedFrame {
  type: 'accepted';
  ref: string;
}
