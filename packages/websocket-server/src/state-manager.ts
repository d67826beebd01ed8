/**
 * Who is connected and what follows from it: sessions arriving, being replaced, going, expiring;
 * agent connections joining and leaving pools; the lifecycle events both sides get (PROTOCOL §3,
 * §5). Routing of data frames is the Router's job; it plugs in through `routeToAgent`.
 */
import type WebSocket from 'ws';
import { v4 as uuidv4 } from 'uuid';
import { CloseCode, FrameType, closeReason, type Config, type Logger, type SystemEvent } from '@agent-bridge/common';
import { AgentConnection } from './agent-connection.ts';
import { AgentRegistry } from './agent-pool.ts';
import { AgentWaitQueues, type WaitEntry } from './agent-wait-queue.ts';
import { ClientConnection } from './client-connection.ts';
import { agentWelcomeFrames } from './client-list.ts';
import { ClientSession, type SessionLimits } from './client-session.ts';
import { systemFrame } from './frames-out.ts';
import type { Heartbeat } from './heartbeat.ts';
import { mergeOutItems } from './coalescing.ts';
import type { MailboxOptions } from './mailbox.ts';
import type { BrokerMetrics } from './metrics.ts';
import { ResumeBudget } from './resume-budget.ts';
import { SessionQuota, type QuotaRefusal } from './session-quota.ts';
import type { SessionStore } from './session-store.ts';

export interface BrokerDeps {
  cfg: Config;
  log: Logger;
  metrics: BrokerMetrics;
  heartbeat: Heartbeat;
  epoch: string;
}

export interface ClientArrival {
  clientId: string;
  lastSeq: number | undefined;
  epoch: string | undefined;
  address: string | null;
  /** X-Client-Ip from the web server, if it sent one. */
  ip?: string | undefined;
}

export class StateManager {
  readonly agents = new AgentRegistry();
  readonly waitQueues: AgentWaitQueues;
  /** RESUME_BUDGET_BYTES across every session's resume buffer. */
  readonly resumeBudget: ResumeBudget;
  /** MAX_SESSIONS / MAX_SESSIONS_PER_IP. */
  readonly quota: SessionQuota;
  /** Set once the broker shuts down: no more lifecycle events, no more routing. */
  closing = false;
  /** Hands a client message to its agent (set by the Router). */
  routeToAgent: (entry: WaitEntry) => void = () => undefined;
  /** Answers a message that could not reach an agent (set by the Router). */
  rejectEntry: (entry: WaitEntry) => void = () => undefined;
  private readonly mailboxOpts: MailboxOptions;
  /** A client's mailbox also coalesces run deltas while frames wait (PROTOCOL §9). */
  private readonly clientMailboxOpts: MailboxOptions;
  private readonly limits: SessionLimits;

  constructor(
    private readonly deps: BrokerDeps,
    readonly sessions: SessionStore,
  ) {
    const { cfg } = deps;
    this.mailboxOpts = { limit: cfg.MAILBOX_LIMIT, socketBufferBytes: cfg.SOCKET_BUFFER_BYTES, pollMs: 10 };
    this.clientMailboxOpts = { ...this.mailboxOpts, merge: mergeOutItems(cfg.MAX_MESSAGE_BYTES) };
    this.limits = {
      resumeFrames: cfg.RESUME_BUFFER_FRAMES,
      resumeBytes: cfg.RESUME_BUFFER_BYTES,
      ratePerSec: cfg.CLIENT_RATE_PER_SEC,
      rateBurst: cfg.CLIENT_RATE_BURST,
      maxMessageBytes: cfg.MAX_MESSAGE_BYTES,
    };
    this.waitQueues = new AgentWaitQueues(cfg.AGENT_QUEUE_LIMIT, cfg.SESSION_TTL_MS, (e) => this.rejectEntry(e), {
      budget: cfg.WAIT_QUEUE_BUDGET_BYTES,
      perClient: cfg.WAIT_QUEUE_CLIENT_BYTES,
    });
    this.resumeBudget = new ResumeBudget(cfg.RESUME_BUDGET_BYTES, (n) => deps.metrics.resumeEvicted.inc(n));
    this.quota = new SessionQuota(cfg.MAX_SESSIONS, cfg.MAX_SESSIONS_PER_IP);
  }

  /**
   * Whether a client socket may attach: always for a known session (resume or replacement), and
   * for a new one only within MAX_SESSIONS / MAX_SESSIONS_PER_IP.
   */
  clientRefusal(arrival: Pick<ClientArrival, 'clientId' | 'ip'>): QuotaRefusal | undefined {
    if (this.sessions.get(arrival.clientId)) return undefined;
    return this.quota.refusal(arrival.ip);
  }

  /** Whether another agent connection may attach (MAX_AGENT_CONNECTIONS). */
  get agentsFull(): boolean {
    return this.agents.connectionCount >= this.deps.cfg.MAX_AGENT_CONNECTIONS;
  }

  get connectedClients(): number {
    let n = 0;
    for (const s of this.sessions.values()) if (s.conn) n++;
    return n;
  }

  // ---------------------------------------------------------------- clients

  attachClient(ws: WebSocket, arrival: ClientArrival): ClientConnection {
    const { cfg, epoch, heartbeat, log } = this.deps;
    let replaced = false;
    const old = this.sessions.get(arrival.clientId)?.conn;
    if (old) {
      if (old.ws.readyState === old.ws.OPEN) {
        replaced = true;
        this.cutClient(old, CloseCode.replaced, 'replaced by a newer connection', true);
      } else {
        // Its close frame arrived but ws has not emitted 'close' yet: it is gone, with its code.
        this.detachClient(old, closeCodeOf(old.ws));
      }
    }
    let session = this.sessions.get(arrival.clientId);
    const known = session !== undefined;
    if (!session) {
      session = new ClientSession(arrival.clientId, this.limits, this.resumeBudget, arrival.ip);
      this.sessions.set(session);
      this.quota.opened(session.ip);
    }
    session.clearTtl();
    const epochOk = arrival.epoch === undefined || arrival.epoch === epoch;
    const { resumed, replay } = known ? session.decideResume(arrival.lastSeq, epochOk) : { resumed: false, replay: [] };
    if (arrival.lastSeq !== undefined) {
      const reason = resumed ? 'ok' : !known ? 'unknown_session' : !epochOk ? 'epoch_changed' : 'gap';
      this.deps.metrics.resumes.inc({ resumed: String(resumed), reason });
    }
    const previousAddress = session.address;
    session.address = arrival.address;

    const conn = new ClientConnection(ws, session, this.clientMailboxOpts, {
      onOverflow: (c) => this.cutClient(c, CloseCode.slowConsumer, 'slow consumer: reconnect and resume'),
      // Replays (unbounded) are not deliveries of a frame read now: no latency for them.
      onSent: (item, text) => this.deps.metrics.frameOut('client', item.type, text, item.unbounded ? undefined : item.body?.receivedAt),
      onDrop: () => this.deps.metrics.broadcastsDropped.inc(),
      onDropReport: (c, report) =>
        c.session.deliver('direct', FrameType.system, (seq) => systemFrame('messages.dropped', { ...report }, seq)),
    });
    session.conn = conn;
    heartbeat.add(ws, () => ws.terminate(), (s) => this.deps.metrics.heartbeatRtt('client', s));
    ws.on('close', (code) => this.onClientClose(conn, code));
    this.deps.metrics.opened('client');

    const welcome = {
      type: FrameType.welcome,
      clientId: session.clientId,
      epoch,
      resumed,
      replayed: replay.length,
      lastSeq: session.lastSeq,
      heartbeatMs: cfg.HEARTBEAT_INTERVAL_MS,
      agents: this.agents.names(),
      address: session.address,
    };
    conn.push({ payload: JSON.stringify(welcome), kind: 'direct', type: FrameType.welcome });
    // A shared body stays shared: each replayed frame is rendered only when it goes to the socket.
    for (const f of replay) conn.push({ payload: f.payload, body: f.body, kind: 'direct', type: f.type, seq: f.seq, unbounded: true });
    log.debug({ clientId: session.clientId, resumed, replayed: replay.length, replaced }, 'client connected');

    if (!replaced) {
      this.toAllAgents('client.connected', { clientId: session.clientId, address: session.address, resumed });
    } else if (previousAddress !== session.address) {
      this.announceIdentity(session);
    }
    return conn;
  }

  /** Close a client socket from our side; `silent` (a replacement) fires no lifecycle event. */
  cutClient(conn: ClientConnection, code: number, reason: string, silent = false): void {
    if (silent) {
      conn.detached = true;
      conn.mailbox.close();
      if (conn.session.conn === conn) conn.session.conn = undefined;
    } else {
      this.detachClient(conn, code);
    }
    conn.ws.close(code, closeReason(reason));
  }

  private onClientClose(conn: ClientConnection, code: number): void {
    this.deps.metrics.closed('client', code);
    // detachClient leaves the heartbeat first, even for a connection already detached.
    this.detachClient(conn, code);
  }

  /** The socket is gone (or given up): the session waits SESSION_TTL_MS unless it ended normally. */
  private detachClient(conn: ClientConnection, code: number): void {
    this.deps.heartbeat.remove(conn.ws);
    if (conn.detached) return;
    conn.detached = true;
    conn.mailbox.close();
    const s = conn.session;
    if (s.conn !== conn) return;
    s.conn = undefined;
    if (this.closing) return;
    const ttl = this.deps.cfg.SESSION_TTL_MS;
    const resumable = code !== CloseCode.normal && ttl > 0;
    this.deps.log.debug({ clientId: s.clientId, code, resumable }, 'client disconnected');
    this.toAllAgents('client.disconnected', { clientId: s.clientId, resumable });
    if (resumable) {
      s.ttlTimer = setTimeout(() => this.expire(s), ttl);
      s.ttlTimer.unref();
    } else {
      this.expire(s);
    }
  }

  private expire(s: ClientSession): void {
    s.clearTtl();
    if (this.sessions.get(s.clientId) !== s || s.conn) return;
    this.sessions.delete(s.clientId);
    this.quota.closed(s.ip);
    s.resume.dispose();
    this.agents.forgetClient(s.clientId);
    this.deps.log.debug({ clientId: s.clientId }, 'client session expired');
    this.toAllAgents('client.expired', { clientId: s.clientId });
  }

  /** POST /internal/clients/:id/identity. false: no such session. */
  setIdentity(clientId: string, address: string | null): boolean {
    const s = this.sessions.get(clientId);
    if (!s) return false;
    if (s.address !== address) {
      s.address = address;
      this.announceIdentity(s);
    }
    return true;
  }

  private announceIdentity(s: ClientSession): void {
    if (s.address === null) this.toAllAgents('client.signed_out', { clientId: s.clientId });
    else this.toAllAgents('client.authenticated', { clientId: s.clientId, address: s.address });
  }

  // ---------------------------------------------------------------- agents

  attachAgent(ws: WebSocket, name: string): AgentConnection {
    const { cfg, heartbeat, metrics, log } = this.deps;
    const conn = new AgentConnection(ws, name, uuidv4(), this.mailboxOpts, {
      onOverflow: (c) => this.cutAgent(c, CloseCode.slowConsumer, 'slow consumer'),
      onSent: (item, text) => metrics.frameOut('agent', item.type, text, item.meta?.receivedAt),
    });
    heartbeat.add(ws, () => ws.terminate(), (s) => metrics.heartbeatRtt('agent', s));
    ws.on('close', (code) => {
      metrics.closed('agent', code, name);
      this.detachAgent(conn);
    });
    metrics.opened('agent');
    const first = this.agents.add(conn);
    const clients = [...this.sessions.values()].map((s) => ({ clientId: s.clientId, address: s.address, connected: s.conn !== undefined }));
    // Paged so that no frame exceeds MAX_MESSAGE_BYTES (client-list.ts). All pages are queued in
    // this turn, so no lifecycle event can fall between them; they are bounded by MAX_SESSIONS,
    // not by the mailbox limit.
    const head = { agent: name, agentId: conn.agentId, heartbeatMs: cfg.HEARTBEAT_INTERVAL_MS };
    agentWelcomeFrames(head, clients, cfg.MAX_MESSAGE_BYTES).forEach((payload, i) =>
      conn.send(i === 0 ? FrameType.welcome : FrameType.clients, payload, true),
    );
    log.info({ agent: name, agentId: conn.agentId }, 'agent connected');
    if (first) this.toAllClients('agent.connected', { agent: name });
    for (const entry of this.waitQueues.take(name)) this.routeToAgent(entry);
    return conn;
  }

  cutAgent(conn: AgentConnection, code: number, reason: string): void {
    this.detachAgent(conn);
    conn.ws.close(code, closeReason(reason));
  }

  /** The connection is gone: leave the pool, and put back the client messages it never got. */
  private detachAgent(conn: AgentConnection): void {
    this.deps.heartbeat.remove(conn.ws);
    if (conn.detached) return;
    conn.detached = true;
    const last = this.agents.remove(conn);
    const undelivered = conn.takeUndelivered();
    if (this.closing) return;
    this.deps.log.info({ agent: conn.name, agentId: conn.agentId, requeued: undelivered.length }, 'agent disconnected');
    if (last) this.toAllClients('agent.disconnected', { agent: conn.name });
    if (!undelivered.length) return;
    if (this.agents.get(conn.name)) for (const e of undelivered) this.routeToAgent(e);
    else this.waitQueues.requeueFront(conn.name, undelivered);
  }

  // ---------------------------------------------------------------- events

  toAllAgents(event: SystemEvent, fields: Record<string, unknown>): void {
    if (this.closing) return;
    const payload = systemFrame(event, fields);
    for (const conn of this.agents.connections()) conn.send(FrameType.system, payload);
  }

  toAllClients(event: SystemEvent, fields: Record<string, unknown>): void {
    if (this.closing) return;
    for (const s of [...this.sessions.values()]) s.deliver('system', FrameType.system, (seq) => systemFrame(event, fields, seq));
  }

  /** Shutdown: stop every timer; sockets are closed by the server. */
  shutdown(): void {
    this.closing = true;
    this.waitQueues.clear();
    for (const s of this.sessions.values()) {
      s.clearTtl();
      s.conn?.mailbox.close();
    }
    for (const c of this.agents.connections()) c.mailbox.close();
  }
}

/** The close code ws recorded from the peer's close frame (1006 when there was none). */
function closeCodeOf(ws: WebSocket): number {
  return (ws as unknown as { _closeCode?: number })._closeCode ?? 1006;
}
