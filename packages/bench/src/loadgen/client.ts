/**
 * What the load generator needs from a client of any target: connect, send application data
 * (queued while the socket is down, as a real client library would), hear data and reconnects.
 */
export interface ClientHooks {
  /**
   * Application data from the agent (an echo, a broadcast, a run event); `bytes`: the payload of
   * the WebSocket message that carried it (the whole frame, envelope included).
   */
  onData(client: BenchClient, data: any, bytes: number): void;
  /** The client is usable again after losing its connection; `resumed` per the target's notion. */
  onReconnected(client: BenchClient, resumed: boolean): void;
  /** The bridge said it dropped `count` broadcasts for this client (slow consumer). */
  onDropped(client: BenchClient, count: number): void;
  /** An `error` frame (e.g. rate_limited, agent_unavailable). */
  onError(client: BenchClient, code: string): void;
}

export interface BenchClient {
  readonly index: number;
  /** Resolves once the client can send and receive (welcome / open / connect). */
  connect(): Promise<void>;
  send(data: unknown): void;
  /** Close for good (no redial); resolves when closed or after a bound. */
  close(): Promise<void>;
  readonly open: boolean;
  /**
   * Lose the connection abruptly (as a network drop does) and dial again after `awayMs`, resuming
   * where the target can. Only targets with resume implement it.
   */
  drop?(awayMs: number): void;
}

export type ClientFactory = (index: number, hooks: ClientHooks) => BenchClient;
