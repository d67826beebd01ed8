/**
 * Client sessions arriving, being replaced, going and expiring (PROTOCOL §3, §5): a socket
 * attaches to its session record (created on first sight, within MAX_SESSIONS / per IP), gets its
 * welcome and the replay; when it goes the session waits SESSION_TTL_MS (or ends at once after a
 * normal close), and the store's expiry rule decides who announces `client.expired`. A `4500`
 * replacement fires neither `client.disconnected` nor `client.connected`: the session goes on.
 */
import type { Acceptance } from './acks.ts';
import type WebSocket from 'ws';
import { CloseCode, FrameType, closeReason, type Config, type Logger, peerCloseCode } from '@agent-bridge/common';
import { ClientConnection } from './client-connection.ts';
import { clientWelcomeFrame, systemFrame } from './frames-out.ts';
import type { LifecycleEvents } from './lifecycle-events.ts';
import type { Liveness } from './liveness.ts';
import type { LocalHub } from './local-hub.ts';
import type { MailboxOptions } from './mailbox.ts';
import type { BrokerMetrics } from './metrics.ts';
import type { SessionRuns } from './runs.ts';
import type { SessionDelivery } from './session-delivery.ts';
import type { Shutdown } from './shutdown.ts';
import type { BrokerStores } from './store/stores.ts';
import type { QuotaRefusal } from './store/session-store.ts';
import { andThen, settle } from './store/awaitable.ts';

export interface ClientArrival {
  clientId: string;
  lastSeq: number | undefined;
  epoch: string | undefined;
  address: string | null;
  /** X-Client-Ip from the web server, if it sent one. */
  ip?: string | undefined;
  /** §8 extension (`?accepted=inline`): `accepted`s ride on the socket's next frame (mailbox.ts). */
  acceptedInline?: boolean;
}

export interface ClientLifecycleDeps {
  cfg: Config;
  log: Logger;
  metrics: BrokerMetrics;
  liveness: Liveness;
  stores: BrokerStores;
  hub: LocalHub;
  delivery: SessionDelivery;
  events: LifecycleEvents;
  runs: SessionRuns;
  shutdown: Shutdown;
  /** This broker's NODE_ID (cluster: the owner of the sessions it holds). */
  nodeId: string;
  /** The client mailbox's options (with run-delta coalescing). */
  mailbox: MailboxOptions;
  /** §8: a session's accepted ids are forgotten when it expires. */
  acceptance?: Acceptance;
  onError(err: unknown): void;
}

export class ClientLifecycle {
  /** Cluster: a broker that did not hear a kick meant for it (set by broker-parts). */
  onSuspect?: (node: string) => void;
  /** SESSION_TTL_MS timers of the sessions this broker saw go (the store holds their deadline). */
  private readonly expiryTimers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly deps: ClientLifecycleDeps) {}

  /**
   * Whether a client socket may attach: always for a known session (resume or replacement), and
   * for a new one only within MAX_SESSIONS / MAX_SESSIONS_PER_IP.
   */
  refusal(arrival: Pick<ClientArrival, 'clientId' | 'ip'>): Promise<QuotaRefusal | undefined> | QuotaRefusal | undefined {
    return this.deps.stores.sessions.refusal(arrival.clientId, arrival.ip);
  }

  async attach(ws: WebSocket, arrival: ClientArrival): Promise<ClientConnection> {
    const { cfg, stores, hub, log, metrics } = this.deps;
    const { clientId } = arrival;
    let replaced = false;
    const old = hub.client(clientId);
    if (old) {
      if (old.ws.readyState === old.ws.OPEN) {
        replaced = true;
        this.cut(old, CloseCode.replaced, 'replaced by a newer connection', true);
      } else {
        // Its close frame arrived but ws has not emitted 'close' yet: it is gone, with its code.
        await this.detach(old, peerCloseCode(old.ws));
      }
    }
    this.clearExpiry(clientId);
    const epoch = await stores.epoch.current();
    const { record, created, takenFrom } = await stores.sessions.getOrCreate({
      clientId,
      epoch,
      address: null,
      ip: arrival.ip,
      createdAt: Date.now(),
      expiresAt: null,
    });
    const known = !created;
    const previousAddress = record.address;
    await stores.sessions.update(clientId, { address: arrival.address, expiresAt: null });
    if (takenFrom !== undefined && takenFrom !== this.deps.nodeId) {
      // §10: at most one socket per clientId cluster-wide: the broker that held it closes its
      // socket with 4500, silently. Agents hear `client.connected` (resumed) from here: whether
      // the other broker is alive (a replacement) or dead (its clients continuing here) cannot be
      // told apart in time, and a dead broker's clients must be announced.
      settle(
        andThen(stores.bus.publish({ kind: 'kick', clientId, node: takenFrom, code: CloseCode.replaced, reason: 'replaced by a newer connection' }), (heard) => {
          // Nobody heard the kick: that broker is gone; the sweeper takes it over at once.
          if (heard === 0) this.onSuspect?.(takenFrom);
        }),
        this.deps.onError,
      );
    }

    // The socket joins the hub before the log is read: a frame appended from now on reaches its
    // gate, which holds it until the welcome and the replay are out (seq-gate.ts).
    const mailboxOpts = arrival.acceptedInline ? { ...this.deps.mailbox, carryLazy: true } : this.deps.mailbox;
    const conn = new ClientConnection(ws, clientId, mailboxOpts, {
      onOverflow: (c) => this.cut(c, CloseCode.slowConsumer, 'slow consumer: reconnect and resume'),
      // Replays (unbounded) are not deliveries of a frame read now: no latency for them.
      // A rendered body knows its frame's bytes (mailbox.ts writes body.render(seq) for those).
      onSent: (item, text, carried = 0) =>
        metrics.frameOut(
          'client',
          item.type,
          text,
          item.unbounded ? undefined : item.body?.receivedAt,
          item.payload === undefined ? item.body!.frameBytes(item.seq!) + carried : undefined,
        ),
      onDrop: () => metrics.broadcastsDropped.inc(),
      onDropReport: (c, report) =>
        this.deps.delivery.deliver(c.clientId, 'direct', {
          type: FrameType.system,
          render: (seq) => systemFrame('messages.dropped', { ...report }, seq),
        }),
      readAfter: async (id, seq) => {
        const answer = await stores.log.after(id, seq);
        return answer.complete ? answer.frames : undefined;
      },
      onHole: (c) => this.cut(c, CloseCode.slowConsumer, 'frames missing: reconnect and resume'),
      onError: this.deps.onError,
    });
    hub.setClient(conn);
    settle(stores.nodes.holdsClient(clientId, true), this.deps.onError);
    this.deps.liveness.watch(ws, (s) => metrics.heartbeatRtt('client', s));
    ws.on('close', (code) => {
      metrics.closed('client', code);
      // detach leaves the liveness check first, even for a connection already detached.
      void this.detach(conn, code).catch(this.deps.onError);
    });
    metrics.opened('client');

    const epochOk = arrival.epoch === undefined || arrival.epoch === epoch;
    let resumed = false;
    let replay: Awaited<ReturnType<typeof stores.log.after>>['frames'] = [];
    // The seq the socket has everything through once the welcome and replay are out.
    let upTo: number | undefined;
    if (known) {
      // Rule 3 of the resume contract: resume only when every frame after lastSeq is still held;
      // otherwise start the stream afresh (the seq counter goes on) and drop what was kept.
      const answer = arrival.lastSeq !== undefined && epochOk ? await stores.log.after(clientId, arrival.lastSeq) : undefined;
      if (answer?.complete) {
        resumed = true;
        replay = answer.frames;
        upTo = answer.lastSeq;
      } else {
        const at = await stores.log.reset(clientId);
        if (typeof at === 'number') upTo = at;
      }
    } else {
      // A new session: nothing was appended before its record existed.
      upTo = 0;
    }
    if (arrival.lastSeq !== undefined) {
      const reason = resumed ? 'ok' : !known ? 'unknown_session' : !epochOk ? 'epoch_changed' : 'gap';
      metrics.resumes.inc({ resumed: String(resumed), reason });
    }
    const lastSeq = upTo ?? (await stores.log.lastSeq(clientId));
    const agents = await stores.directory.names();

    conn.push({
      payload: clientWelcomeFrame({
        clientId,
        epoch,
        resumed,
        replayed: replay.length,
        lastSeq,
        heartbeatMs: cfg.HEARTBEAT_INTERVAL_MS,
        agents,
        address: arrival.address,
        // §8: this bridge answers `accepted` and de-duplicates resent ids.
        acks: true,
      }),
      kind: 'direct',
      type: FrameType.welcome,
    });
    // A shared body stays shared: each replayed frame is rendered only when it goes to the socket.
    for (const f of replay) conn.push({ payload: f.payload, body: f.body, kind: 'direct', type: f.type, seq: f.seq, unbounded: true });
    conn.gate.open(Math.max(lastSeq, replay.at(-1)?.seq ?? 0));
    log.debug({ clientId, resumed, replayed: replay.length, replaced }, 'client connected');

    if (!replaced) this.deps.events.toAllAgents('client.connected', { clientId, address: arrival.address, resumed });
    else if (previousAddress !== arrival.address) this.deps.events.identity(clientId, arrival.address);
    return conn;
  }

  /** Close a client socket from our side; `silent` (a replacement) fires no lifecycle event. */
  cut(conn: ClientConnection, code: number, reason: string, silent = false): void {
    if (silent) {
      this.deps.liveness.unwatch(conn.ws);
      conn.detached = true;
      conn.mailbox.close();
      conn.gate.close();
      this.deps.hub.removeClient(conn);
    } else {
      void this.detach(conn, code).catch(this.deps.onError);
    }
    conn.ws.close(code, closeReason(reason));
  }

  /** The kick of the cluster bus: close this broker's socket of the session, silently. */
  kick(clientId: string, code: number, reason: string): void {
    const conn = this.deps.hub.client(clientId);
    if (conn) this.cut(conn, code, reason, true);
  }

  /** POST /internal/clients/:id/identity. false: no such session. */
  async setIdentity(clientId: string, address: string | null): Promise<boolean> {
    const sessions = this.deps.stores.sessions;
    const record = await sessions.get(clientId);
    if (!record) return false;
    if (record.address !== address) {
      await sessions.update(clientId, { address });
      this.deps.stores.intake?.identity?.(clientId, address);
      this.deps.events.identity(clientId, address);
    }
    return true;
  }

  /** Shutdown: stop every timer and mailbox; sockets are closed by the server. */
  shutdown(): void {
    for (const t of this.expiryTimers.values()) clearTimeout(t);
    this.expiryTimers.clear();
    for (const c of this.deps.hub.clients()) {
      c.mailbox.close();
      c.gate.close();
    }
  }

  /** The socket is gone (or given up): the session waits SESSION_TTL_MS unless it ended normally. */
  private async detach(conn: ClientConnection, code: number): Promise<void> {
    this.deps.liveness.unwatch(conn.ws);
    if (conn.detached) return;
    conn.detached = true;
    conn.mailbox.close();
    conn.gate.close();
    this.deps.stores.intake?.forget?.(conn.clientId, conn);
    if (!this.deps.hub.removeClient(conn)) return;
    if (this.deps.shutdown.closing) return;
    const { clientId } = conn;
    const ttl = this.deps.cfg.SESSION_TTL_MS;
    const resumable = code !== CloseCode.normal && ttl > 0;
    const expiresAt = Date.now() + (resumable ? ttl : 0);
    settle(this.deps.stores.nodes.holdsClient(clientId, false), this.deps.onError);
    // Fenced in a cluster: undefined when another broker's socket holds the session by now.
    const still = await this.deps.stores.sessions.update(clientId, { expiresAt });
    if (!still) return;
    this.deps.log.debug({ clientId, code, resumable }, 'client disconnected');
    this.deps.events.toAllAgents('client.disconnected', { clientId, resumable });
    if (!resumable) return this.expire(clientId, expiresAt);
    const timer = setTimeout(() => {
      this.expiryTimers.delete(clientId);
      this.expire(clientId, expiresAt).catch(this.deps.onError);
    }, ttl);
    timer.unref();
    this.expiryTimers.set(clientId, timer);
  }

  /**
   * Sessions whose expiry passed without this broker's timer seeing it (a restored snapshot, a
   * session another broker detached or a dead broker left): the store's rule still decides who
   * announces. Runs every second.
   */
  async sweep(now = Date.now()): Promise<void> {
    if (this.deps.shutdown.closing) return;
    const due = await this.deps.stores.sessions.due(now, 500);
    await Promise.all(due.map((id) => this.expire(id, now)));
  }

  /** The store's expiry rule: only the caller that removed the record announces the expiry. */
  async expire(clientId: string, deadline: number): Promise<void> {
    const { stores, runs, log, events } = this.deps;
    const record = await stores.sessions.expire(clientId, deadline);
    if (!record) return;
    await Promise.all([stores.log.drop(clientId), stores.rates.forget(clientId), stores.directory.forgetClient(clientId)]);
    runs.forget(clientId);
    this.deps.acceptance?.forgetClient(clientId);
    log.debug({ clientId }, 'client session expired');
    events.toAllAgents('client.expired', { clientId });
  }

  private clearExpiry(clientId: string): void {
    const t = this.expiryTimers.get(clientId);
    if (t) clearTimeout(t);
    this.expiryTimers.delete(clientId);
  }
}
