/**
 * Cluster: what the broker must know about a client's frames before routing them, asked of Redis
 * in one round trip (all on the session's `{clientId}` keys): a token from the session's bucket
 * for each frame, whether each `id` was already accepted (§8), and the session's address. Frames
 * of one socket that arrived while the previous ones were being routed are asked about together
 * (router.ts), so a busy client costs one round trip per batch, not per frame. In one process the
 * memory stores answer synchronously and this is not used.
 */
import type { RateVerdict } from '@agent-bridge/common';

export interface IntakeAnswer {
  verdict: RateVerdict;
  /** The id was accepted before in this session (a resend). */
  duplicate: boolean;
}

export interface IntakeBatch {
  /** One per frame asked about, in order: each took a token (or was refused one) in that order. */
  answers: IntakeAnswer[];
  address: string | null;
}

export interface ClientIntake {
  /**
   * `ids`: one per frame, its §8 id ('' for a frame without one, or one that did not parse).
   * `conn`: the connection the frames came on (an implementation may keep state per connection).
   */
  take(clientId: string, ids: string[], conn?: object): Promise<IntakeBatch>;
  /** The session's address changed (identity route, or the bus). */
  identity?(clientId: string, address: string | null): void;
  /** The connection went. */
  forget?(clientId: string, conn: object): void;
}
