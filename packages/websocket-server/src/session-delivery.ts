/**
 * Frames to a session: `deliver` appends to the session log (which gives the seq) and hands the
 * frame to the session's socket, here if this broker holds it, else through the bus to whoever
 * does; `unsequenced` (welcome, error) goes to a socket of this broker only, or nowhere. Frames
 * delivered while the session has no socket wait in the log for its resume.
 */
import { FrameType, type ErrorCode } from '@agent-bridge/common';
import { errorFrame, type ErrorExtra } from './frames-out.ts';
import type { LocalHub } from './local-hub.ts';
import type { FrameKind } from './mailbox.ts';
import type { BrokerMetrics } from './metrics.ts';
import { isPromise, settle, type Awaitable } from './store/awaitable.ts';
import type { ClusterBus } from './store/cluster-bus.ts';
import type { LogEntry, LoggedFrame, SessionLog } from './store/session-log.ts';

export class SessionDelivery {
  constructor(
    private readonly log: SessionLog,
    private readonly hub: LocalHub,
    private readonly bus: ClusterBus,
    private readonly metrics: BrokerMetrics,
    /** Other brokers exist (cluster mode): errors for sockets elsewhere go through the bus. */
    private readonly clustered = false,
  ) {}

  /** Give the next seq to a frame, keep it for resume, and send it to the session's socket. */
  deliver(clientId: string, kind: FrameKind, entry: LogEntry): Awaitable<void> {
    const frame = this.log.append(clientId, entry, kind);
    // The memory log answers at once: no closure, no Promise on the hot path.
    return isPromise(frame) ? frame.then((f) => this.toSocket(clientId, kind, f)) : this.toSocket(clientId, kind, frame);
  }

  /**
   * One frame to many sessions (a broadcast, a send to a list). A shared log appends each copy
   * silently and this broker tells every other broker holding some of those sockets once, with the
   * frame's text and each session's seq (PROTOCOL §10: once per broker, not once per client).
   * One Awaitable per session: settled once that copy is stored.
   */
  deliverAll(clientIds: string[], kind: FrameKind, entry: LogEntry, dedup?: string): Awaitable<void>[] {
    const { log } = this;
    if (!log.appendSilently || !log.split || (clientIds.length < 2 && dedup === undefined)) return clientIds.map((id) => this.deliver(id, kind, entry));
    const [head, tail] = log.split(entry);
    const byNode = new Map<string, [string, number][]>();
    let pending = clientIds.length;
    const flush = () => {
      for (const [node, items] of byNode) settle(this.bus.publish({ kind: 'deliver.batch', node, frameKind: kind, type: entry.type, head, tail, items }), () => undefined);
    };
    return clientIds.map((id) =>
      log.appendSilently!(id, entry, kind, dedup).then(
        (f) => {
          if (f.seq < 0) {
            // Appended before (a resend): nothing new for the socket.
            if (--pending === 0) flush();
            return;
          }
          const conn = this.hub.client(id);
          if (conn) conn.deliver({ payload: f.payload, body: f.body, kind, type: f.type, seq: f.seq });
          else if (f.owner) {
            let items = byNode.get(f.owner);
            if (!items) byNode.set(f.owner, (items = []));
            items.push([id, f.seq]);
          }
          if (--pending === 0) flush();
        },
        (err: unknown) => {
          if (--pending === 0) flush();
          throw err;
        },
      ),
    );
  }

  /** A shared log checks the session and appends in one step (deliverKnown); memory asks the session store. */
  get checksSessions(): boolean {
    return this.log.appendKnown !== undefined;
  }

  /** Cluster: deliver to a session that exists; false (nothing stored) for an unknown clientId. */
  deliverKnown(clientId: string, kind: FrameKind, entry: LogEntry, dedup?: string): Promise<boolean> {
    return this.log.appendKnown!(clientId, entry, kind, dedup).then((f) => {
      if (!f) return false;
      if (f.seq > 0) settle(this.toSocket(clientId, kind, f), () => undefined);
      return true;
    });
  }

  /** A frame already in the log, to the session's socket wherever it is. */
  toSocket(clientId: string, kind: FrameKind, frame: LoggedFrame): Awaitable<void> {
    const conn = this.hub.client(clientId);
    if (conn) return conn.deliver({ payload: frame.payload, body: frame.body, kind, type: frame.type, seq: frame.seq });
    // A shared log told the broker holding the socket in the same step as the append.
    if (frame.owner !== undefined) return;
    // Not here: the broker holding the socket sends it (the memory bus has nobody else to ask).
    return this.bus.publish({ kind: 'deliver', clientId, frameKind: kind, frame }) as Awaitable<void>;
  }

  /**
   * welcome / error / accepted: no seq, not kept, lost when this broker holds no socket of the
   * session. `lazy`: an `accepted` for `ref`, which may wait for the socket's next frame to share
   * its write, or ride on it (mailbox.ts).
   */
  unsequenced(clientId: string, type: string, payload: string, lazy?: { ref: string }): void {
    this.hub.client(clientId)?.push(lazy ? { payload, kind: 'direct', type, lazy: true, ref: lazy.ref } : { payload, kind: 'direct', type });
  }

  /**
   * An `error` frame to a client (counted by code): to its socket here, else (a cluster: the
   * socket may be on another broker, e.g. a wait that ended) through the bus.
   */
  error(clientId: string, code: ErrorCode, message: string, extra: ErrorExtra = {}): void {
    this.metrics.error(code, 'client', message);
    const payload = errorFrame(code, message, extra);
    if (this.hub.client(clientId) || !this.clustered) return this.unsequenced(clientId, FrameType.error, payload);
    settle(this.bus.publish({ kind: 'error', clientId, payload }), () => undefined);
  }
}
