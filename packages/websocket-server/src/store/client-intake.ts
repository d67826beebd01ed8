/**
 * Cluster: what the broker must know about a client frame before routing it, asked of Redis in
 * one round trip instead of three (all on the session's `{clientId}` keys): a token from the
 * session's bucket, whether its `id` was already used (§8, marked now if not), and the session's
 * address. In one process the three memory stores answer synchronously and this is not used.
 */
import type { RateVerdict } from '@agent-bridge/common';

export interface IntakeAnswer {
  verdict: RateVerdict;
  /** The id was accepted before in this session (a resend). */
  duplicate: boolean;
  address: string | null;
}

export interface ClientIntake {
  /** `id`: the frame's §8 id, if it has one (and is a message or cancel). */
  take(clientId: string, id: string | undefined): Promise<IntakeAnswer>;
}
