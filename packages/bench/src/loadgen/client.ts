/**
 * What the load generator needs from a client of any target: connect, send application data
 * (queued while the socket is down, as a real client library would), hear data and reconnects.
 */
export interface ClientHooks {
  /** Application data from the agent (an echo or a broadcast). */
  onData(client: BenchClient, data: any): void;
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
}

export type ClientFactory = (index: number, hooks: ClientHooks) => BenchClient;
