/**
 * PROTOCOL §8 at the broker (single process): `accepted` answers, de-duplication of resent ids,
 * and the opt-in agent acknowledgements with redelivery. The router asks it before routing a
 * frame with an `id` (`duplicate…`: answered accepted again, nothing delivered) and tells it once
 * the frame is stored for delivery (`accepted…`); the agent lifecycle asks it what a gone
 * connection must get again. In cluster mode (§10) these records move to the shared store.
 */
import { ACK_IDS_MAX, FrameType } from '@agent-bridge/common';
import { UnackedMessages, redelivered } from './acks-unacked.ts';
import type { AckRecords } from './store/ack-records.ts';
import { MemoryAckRecords } from './store/ack-records-memory.ts';
import { andThen, settle, type Awaitable } from './store/awaitable.ts';
import type { HoldAnswer, RedisInflight } from './store/redis/inflight-redis.ts';
import type { AgentConnection } from './agent-connection.ts';
import type { WaitEntry } from './agent-wait-queue.ts';
import type { BrokerMetrics } from './metrics.ts';
import type { SessionDelivery } from './session-delivery.ts';

const ACK_PREFIX = `{"type":"${FrameType.ack}","id":`;

const validId = (id: unknown): id is string => typeof id === 'string' && id.length > 0 && id.length <= 128;

/**
 * The id(s) of an agent `ack` in exactly the SDK's shapes — `{"type":"ack","id":"…"}`, or with the
 * `ids` list of our extension (`{"type":"ack","id":"…","ids":[…]}`: id first, then ids) — else
 * undefined (then the frame takes the schema path, which answers what is wrong with it). One ack
 * comes per client message (or per agent turn with `ids`): the hot path skips the schema walk.
 */
export function fastAckId(text: string): string | string[] | undefined {
  if (!text.startsWith(ACK_PREFIX) || text.charCodeAt(text.length - 1) !== 125 /* } */) return undefined;
  try {
    if (text.charCodeAt(text.length - 2) !== 93 /* ] */) {
      const id: unknown = JSON.parse(text.slice(ACK_PREFIX.length, -1));
      return validId(id) ? id : undefined;
    }
    const frame = JSON.parse(text) as { id?: unknown; ids?: unknown };
    const { id, ids } = frame;
    if (!validId(id) || !Array.isArray(ids) || ids.length === 0 || ids.length > ACK_IDS_MAX || !ids.every(validId)) return undefined;
    return [id, ...(ids as string[])];
  } catch {
    return undefined;
  }
}

/** `{"type":"accepted","ref":"…"}`: no seq, never replayed. */
export function acceptedFrame(ref: string): string {
  return `{"type":"${FrameType.accepted}","ref":${JSON.stringify(ref)}}`;
}

export interface AcceptanceStores {
  /** Ids already accepted (memory rings, or Redis in a cluster). */
  records: AckRecords;
  /** Cluster: client messages held for agent connections in Redis (their redelivery survives a broker). */
  inflight?: RedisInflight | undefined;
}

export class Acceptance {
  readonly unacked: UnackedMessages;
  private readonly records: AckRecords;
  private readonly inflight: RedisInflight | undefined;

  constructor(
    private readonly delivery: SessionDelivery,
    private readonly metrics: BrokerMetrics,
    limits: { sessionTtlMs: number; agentQueueLimit: number },
    stores?: AcceptanceStores,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {
    this.unacked = new UnackedMessages(limits.agentQueueLimit, limits.sessionTtlMs);
    this.records = stores?.records ?? new MemoryAckRecords(limits.sessionTtlMs);
    this.inflight = stores?.inflight;
  }

  // ---------------------------------------------------------------- client frames

  /**
   * A client frame with an id already accepted in this session: accepted again, routed nowhere
   * (true). The memory records answer at once; a shared store with a Promise.
   */
  duplicateFromClient(clientId: string, id: string): Awaitable<boolean> {
    const seen = this.records.seenFromClient(clientId, id);
    // The memory records answer at once: no closure per client message on that path.
    if (seen === false) return false;
    if (seen === true) {
      this.answerDuplicateFromClient(clientId, id);
      return true;
    }
    return andThen(seen, (s) => {
      if (s) this.answerDuplicateFromClient(clientId, id);
      return s;
    });
  }

  /** A resend of an accepted id (found here or by the cluster's intake): accepted again. */
  answerDuplicateFromClient(clientId: string, id: string): void {
    this.metrics.m.framesDeduplicated.inc({ from: 'client' });
    this.toClient(clientId, id);
  }

  /** Handed to the pinned connection or queued for the name: remembered, answered accepted. */
  acceptedFromClient(clientId: string, id: string): void {
    settle(this.records.acceptedFromClient(clientId, id), this.onError);
    this.metrics.m.framesAccepted.inc({ from: 'client' });
    this.toClient(clientId, id);
  }


  /** The session ended for good. */
  forgetClient(clientId: string): void {
    settle(this.records.forgetClient(clientId), this.onError);
  }

  /**
   * Lazy: the `accepted` leaves with the client's next frame (the agent's answer, often) or within
   * LAZY_HOLD_MS (mailbox.ts), in its place before that frame: one write instead of two; to a
   * socket opened with `?accepted=inline`, as a member of that frame: no frame of its own.
   */
  private toClient(clientId: string, id: string): void {
    this.delivery.unsequenced(clientId, FrameType.accepted, acceptedFrame(id), { ref: id });
  }

  // ---------------------------------------------------------------- agent frames

  duplicateFromAgent(conn: AgentConnection, id: string): Awaitable<boolean> {
    return andThen(this.records.seenFromAgent(conn.name, id), (seen) => {
      if (!seen) return false;
      this.metrics.m.framesDeduplicated.inc({ from: 'agent' });
      conn.send(FrameType.accepted, acceptedFrame(id), false, id);
      return true;
    });
  }

  /** Every recipient's copy has its seq and is in its resume buffer. */
  acceptedFromAgent(conn: AgentConnection, id: string): void {
    settle(this.records.acceptedFromAgent(conn.name, id), this.onError);
    this.metrics.m.framesAccepted.inc({ from: 'agent' });
    conn.send(FrameType.accepted, acceptedFrame(id), false, id);
  }


  // ---------------------------------------------------------------- agent acknowledgements

  /**
   * A client.message went to a connection's socket: an opted-in one holds it until acknowledged
   * (in memory here; in a cluster it is already in Redis); a v1 one has it delivered (a cluster
   * forgets its Redis copy).
   */
  handed(conn: AgentConnection, entry: WaitEntry): void {
    if (this.inflight) {
      if (!conn.acks && entry.msgId !== undefined) settle(this.inflight.done(conn.name, conn.agentId, entry.msgId), this.onError);
      return;
    }
    if (conn.acks) this.unacked.sent(conn.name, conn.agentId, entry);
  }

  /**
   * `{"type":"ack","id"}` (several ids: the extension's `ids` list too): ignored (no error) from a
   * connection that did not opt in, or for an unknown id.
   */
  ack(conn: AgentConnection, id: string | readonly string[]): void {
    if (!conn.acks) return;
    if (typeof id !== 'string') {
      for (const one of id) this.ack(conn, one);
      return;
    }
    if (this.inflight) settle(this.inflight.done(conn.name, conn.agentId, id), this.onError);
    else this.unacked.ack(conn.name, conn.agentId, id);
  }

  /**
   * The connection went: what it had not acknowledged, oldest first, `redelivered:true`. In a
   * cluster that is everything Redis still holds for it (mailbox, socket and bus included): call it
   * after the connection left the directory, so nothing can be added for it any more.
   */
  redeliver(conn: { name: string; agentId: string; acks: boolean }): Awaitable<WaitEntry[]> {
    if (this.inflight) {
      return andThen(this.inflight.take(conn.name, conn.agentId), (held) => {
        const again = conn.acks ? held.map(redelivered) : held;
        if (conn.acks && again.length) this.metrics.m.framesRedelivered.inc(again.length);
        return again;
      });
    }
    if (!conn.acks) return [];
    const again = this.unacked.take(conn.name, conn.agentId);
    if (again.length) this.metrics.m.framesRedelivered.inc(again.length);
    return again;
  }

  /**
   * Cluster: hold one client's messages for its pinned connection (or `pinTo`) and publish them
   * to that connection's broker, in one step (store/redis/inflight-redis.ts).
   */
  hold(name: string, entries: WaitEntry[], fresh: boolean, pinTo?: string): Promise<HoldAnswer> {
    return this.inflight!.hold(name, entries, fresh, pinTo);
  }

  /** Cluster: fresh messages for `name` wait while its older ones are routed again. */
  fence(name: string, on: boolean): Promise<void> {
    return this.inflight ? this.inflight.fence(name, on) : Promise.resolve();
  }

  get clustered(): boolean {
    return this.inflight !== undefined;
  }

  close(): void {
    if (this.records instanceof MemoryAckRecords) this.records.close();
  }
}
