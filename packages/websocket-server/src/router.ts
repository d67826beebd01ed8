/**
 * Data frames: client `message` → the pinned connection of the named agent (or its wait queue),
 * client `cancel` → the same way as `client.cancel`, to the agent streaming that run (runs.ts);
 * agent `send` → listed clients, `broadcast` → every known session but `except`. Bad frames are
 * answered with an `error` frame to the sender only; the socket stays open.
 */
import type { RawData } from 'ws';
import {
  AgentInboundFrame,
  ClientFrame,
  CloseCode,
  DEFAULT_AGENT,
  FrameType,
  attachMeta,
  forwardMeta,
  peekRef,
  readMeta,
  traceIdOf,
  parseFrame,
  type AgentBroadcastFrame,
  type AgentSendFrame,
  type ClientCancelFrame,
  type ClientMessageFrame,
  type Config,
  type ErrorCode,
  type Logger,
} from '@agent-bridge/common';
import { fastAckId, type Acceptance } from './acks.ts';
import type { AgentConnection } from './agent-connection.ts';
import type { AgentRouting } from './agent-routing.ts';
import type { ClientConnection } from './client-connection.ts';
import type { ClientLifecycle } from './client-lifecycle.ts';
import { deltaPartOf } from './coalescing.ts';
import { SeqMessageTemplate, clientMessageFrame, errorFrame, nowIso, type ErrorExtra } from './frames-out.ts';
import { newMessageId } from './ids.ts';
import type { Liveness } from './liveness.ts';
import type { BrokerMetrics } from './metrics.ts';
import { StreamOffsets, cancelToAgent, type SessionRuns } from './runs.ts';
import type { SessionDelivery } from './session-delivery.ts';
import type { Shutdown } from './shutdown.ts';
import { settle, andThen, isPromise, thenAll, type Awaitable } from './store/awaitable.ts';
import type { WaitEntry } from './store/wait-queue-store.ts';
import type { IntakeBatch } from './store/client-intake.ts';
import type { BrokerStores } from './store/stores.ts';
import type { HopTracer } from '@agent-bridge/common/otel';

export interface RouterDeps {
  cfg: Config;
  log: Logger;
  metrics: BrokerMetrics;
  liveness: Liveness;
  stores: BrokerStores;
  runs: SessionRuns;
  routing: AgentRouting;
  delivery: SessionDelivery;
  clients: ClientLifecycle;
  shutdown: Shutdown;
  /** OpenTelemetry spans per hop, when OTEL_EXPORTER_OTLP_ENDPOINT is set (server.ts). */
  tracer: HopTracer;
  /** §8: accepted answers, de-duplication, agent acks. */
  acceptance: Acceptance;
}

/** Cluster: the most frames of one socket routed as one batch (and read ahead before pausing it). */
const CLUSTER_BATCH_MAX = 64;

export class Router {
  /** Offsets stamped on run deltas that lack one, per agent name and stream (PROTOCOL §9). */
  private readonly offsets = new StreamOffsets();
  /** TRACE=off: no trace started for frames without `_meta` (cost comparison). */
  private readonly tracing: boolean;
  private readonly debug: boolean;
  private readonly cfg: Config;
  private readonly log: Logger;
  private readonly metrics: BrokerMetrics;
  private readonly tracer: HopTracer;
  private readonly acceptance: Acceptance;
  private readonly onError = (err: unknown): void => this.log.warn({ err }, 'a store failed while routing a frame');

  constructor(private readonly deps: RouterDeps) {
    this.cfg = deps.cfg;
    this.log = deps.log;
    this.metrics = deps.metrics;
    this.tracer = deps.tracer;
    this.acceptance = deps.acceptance;
    this.tracing = deps.cfg.TRACE !== 'off';
    this.debug = deps.log.isLevelEnabled('debug');
  }

  /** The `_meta` to forward (§11): the frame's own if valid, else a new trace (TRACE=on); logged at debug. */
  private traceOf(frame: { _meta?: Record<string, unknown> | undefined }, msgId: string, ref: string | undefined, hop: string): Record<string, unknown> | undefined {
    if (!this.tracing) return frame._meta;
    const meta = forwardMeta(frame);
    if (this.debug) this.log.debug({ traceId: traceIdOf(meta), msgId, ref, hop }, 'frame routed');
    return meta;
  }

  // ---------------------------------------------------------------- client → agent

  /** Bad input must never take the broker down: anything unexpected becomes an `internal` error. */
  onClientFrame(conn: ClientConnection, data: RawData, isBinary: boolean): void {
    try {
      this.clientFrame(conn, data, isBinary);
    } catch (err) {
      this.log.warn({ err, clientId: conn.clientId }, 'failed to handle a client frame');
      this.deps.delivery.error(conn.clientId, 'internal', 'the frame could not be handled');
    }
  }

  onAgentFrame(conn: AgentConnection, data: RawData, isBinary: boolean): void {
    try {
      this.agentFrame(conn, data, isBinary);
    } catch (err) {
      this.log.warn({ err, agentId: conn.agentId }, 'failed to handle an agent frame');
      this.agentError(conn, 'internal', 'the frame could not be handled');
    }
  }

  private clientFrame(conn: ClientConnection, data: RawData, isBinary: boolean): void {
    const receivedAt = performance.now();
    this.deps.liveness.touch(conn.ws);
    if (conn.detached || this.deps.shutdown.closing) return;
    const text = isBinary ? undefined : rawText(data);
    if (this.deps.stores.intake && text !== undefined) return this.clusterClientFrame(conn, text, receivedAt);
    // The bucket is the session's (reconnecting does not refill it); the memory store answers now.
    settle(
      andThen(this.deps.stores.rates.take(conn.clientId), (verdict) => {
        if (verdict === 'ok') return this.acceptedFrame(conn, text, receivedAt);
        this.metrics.frameIn('client', 'invalid');
        if (verdict === 'abuse') return this.deps.clients.cut(conn, CloseCode.policy, 'rate limit exceeded repeatedly');
        this.deps.delivery.error(conn.clientId, 'rate_limited', 'too many frames; slow down', { ref: text === undefined ? undefined : peekRef(text) });
      }),
      (err) => this.clientFailed(conn.clientId, text === undefined ? undefined : peekRef(text), err),
    );
  }

  /**
   * Cluster: a socket's frames are routed in order, a batch at a time: the frames that came while
   * the previous batch was routed go together, so a busy client costs one round trip to Redis per
   * batch for the buckets, ids and address (store/client-intake.ts), one hold per agent name
   * (agent-routing.ts) and one record of the accepted ids — not three per frame. A frame that does
   * not parse still costs a token, so a flood of garbage is limited like any other.
   */
  private clusterClientFrame(conn: ClientConnection, text: string, receivedAt: number): void {
    conn.inbox.push({ text, receivedAt });
    // Redis slower than this client: stop reading its socket (TCP pushes back on the web server).
    if (conn.inbox.length >= CLUSTER_BATCH_MAX) conn.ws.pause();
    if (conn.routing) return;
    conn.routing = true;
    // Started after this turn's other frames: those of the same read go in the first batch.
    queueMicrotask(() => void this.routeInbox(conn));
  }

  private async routeInbox(conn: ClientConnection): Promise<void> {
    try {
      while (conn.inbox.length > 0) {
        const batch = conn.inbox.splice(0, CLUSTER_BATCH_MAX);
        if (conn.ws.isPaused && conn.inbox.length < CLUSTER_BATCH_MAX) conn.ws.resume();
        try {
          await this.clusterClientBatch(conn, batch);
        } catch (err) {
          this.log.warn({ err, clientId: conn.clientId }, 'failed to handle a client frame');
          this.deps.delivery.error(conn.clientId, 'internal', 'the frame could not be handled');
        }
      }
    } finally {
      conn.routing = false;
    }
  }

  private async clusterClientBatch(conn: ClientConnection, batch: { text: string; receivedAt: number }[]): Promise<void> {
    const { clientId } = conn;
    const parsed = batch.map((b) => parseFrame(b.text, ClientFrame));
    // Each frame's `ref` for its answers: its id (a message or cancel), else what a bad frame had.
    const refs = parsed.map((p) => (!p.ok ? p.ref : p.frame.type === FrameType.ack ? undefined : p.frame.id));
    let intake: IntakeBatch;
    try {
      // Only a frame that parsed has an id to look up.
      intake = await this.deps.stores.intake!.take(clientId, parsed.map((p, i) => (p.ok ? (refs[i] ?? '') : '')), conn);
    } catch (err) {
      for (const ref of refs) this.clientFailed(clientId, ref, err);
      return;
    }
    const session = { clientId, address: intake.address };
    // Messages for agents go on together; anything else answered is answered after them, in order.
    let entries: WaitEntry[] = [];
    const flush = async (): Promise<void> => {
      if (entries.length === 0) return;
      const group = entries;
      entries = [];
      await this.routeMany(group);
    };
    for (let i = 0; i < batch.length; i++) {
      const p = parsed[i]!;
      const { verdict, duplicate } = intake.answers[i]!;
      if (verdict === 'abuse') {
        await flush();
        this.metrics.frameIn('client', 'invalid');
        return this.deps.clients.cut(conn, CloseCode.policy, 'rate limit exceeded repeatedly');
      }
      if (!p.ok || verdict !== 'ok') {
        await flush();
        this.metrics.frameIn('client', 'invalid');
        if (verdict === 'limited') this.deps.delivery.error(clientId, 'rate_limited', 'too many frames; slow down', { ref: refs[i] });
        else if (!p.ok) this.deps.delivery.error(clientId, p.code, p.message, { ref: p.ref });
        continue;
      }
      const frame = p.frame;
      this.metrics.frameIn('client', frame.type, batch[i]!.text.length);
      if (frame.type === FrameType.ack) {
        settle(this.deps.stores.log.ack(clientId, frame.seq), this.onError);
        continue;
      }
      if (duplicate && frame.id !== undefined) {
        await flush();
        this.acceptance.answerDuplicateFromClient(clientId, frame.id);
        continue;
      }
      if (frame.type === FrameType.cancel) {
        await flush();
        await this.clientCancel(session, frame, batch[i]!.receivedAt);
        continue;
      }
      const entry = this.messageEntry(session, frame, batch[i]!.receivedAt);
      if (typeof entry !== 'string') {
        entries.push(entry);
        continue;
      }
      await flush();
      this.deps.delivery.error(clientId, 'payload_too_large', entry, { ref: frame.id });
    }
    await flush();
  }

  /** Cluster: one client's fresh messages to their agents (held together per name); accepted, in order. */
  private async routeMany(entries: WaitEntry[]): Promise<void> {
    const { taken, err } = await this.deps.routing.toAgentMany(entries);
    entries.forEach((e, i) => {
      if (i >= taken.length) this.clientFailed(e.clientId, e.ref, err);
      else if (taken[i] && e.ref !== undefined) this.acceptance.acceptedFromClient(e.clientId, e.ref);
    });
  }

  private acceptedFrame(conn: ClientConnection, text: string | undefined, receivedAt: number): void {
    const { clientId } = conn;
    if (text === undefined) {
      this.metrics.frameIn('client', 'invalid');
      this.deps.delivery.error(clientId, 'invalid_json', 'binary frames are not accepted; send JSON text');
      return;
    }
    const parsed = parseFrame(text, ClientFrame);
    if (!parsed.ok) {
      this.metrics.frameIn('client', 'invalid');
      this.deps.delivery.error(clientId, parsed.code, parsed.message, { ref: parsed.ref });
      return;
    }
    const frame = parsed.frame;
    this.metrics.frameIn('client', frame.type, text.length);
    if (frame.type === FrameType.ack) {
      settle(this.deps.stores.log.ack(clientId, frame.seq), this.onError);
      return;
    }
    const failed = (err: unknown) => this.clientFailed(clientId, frame.id, err);
    // The address is the session record's (the web server may change it any time: identity hop).
    const routeIt = (): void =>
      settle(
        andThen(this.deps.stores.sessions.get(clientId), (record) => {
          const session = { clientId, address: record?.address ?? null };
          if (frame.type === FrameType.cancel) return this.clientCancel(session, frame, receivedAt);
          return this.clientMessage(session, frame, receivedAt);
        }),
        failed,
      );
    if (frame.id === undefined) return routeIt();
    // §8: an id this session already had accepted: accepted again, the agent gets it once. (The
    // memory records answer now; a cluster's in one step that also marks the id as taken.)
    const dup = this.acceptance.duplicateFromClient(clientId, frame.id);
    if (dup === false) return routeIt();
    if (dup === true) return;
    settle(
      andThen(dup, (isDup) => {
        if (!isDup) routeIt();
      }),
      failed,
    );
  }

  private clientMessage(session: Sender, frame: ClientMessageFrame, receivedAt: number): Awaitable<void> {
    const entry = this.messageEntry(session, frame, receivedAt);
    if (typeof entry !== 'string') return this.route(entry, frame.id);
    this.deps.delivery.error(session.clientId, 'payload_too_large', entry, { ref: frame.id });
  }

  /** The `client.message` for the agent, or why it cannot go (payload_too_large's message). */
  private messageEntry(session: Sender, frame: ClientMessageFrame, receivedAt: number): WaitEntry | string {
    const id = newMessageId();
    const _meta = this.traceOf(frame, id, frame.id, 'client>agent');
    const span = this.tracer.enabled ? this.hopSpan('client>agent', frame.agent ?? DEFAULT_AGENT, FrameType.message, id, _meta) : undefined;
    const payload = clientMessageFrame({
      id,
      ref: frame.id,
      clientId: session.clientId,
      address: session.address,
      data: frame.data,
      _meta,
      ts: nowIso(),
    });
    span?.end();
    const bytes = Buffer.byteLength(payload);
    if (bytes > this.cfg.MAX_MESSAGE_BYTES) return `the message to the agent would exceed ${this.cfg.MAX_MESSAGE_BYTES} bytes`;
    return { agent: frame.agent ?? DEFAULT_AGENT, clientId: session.clientId, ref: frame.id, payload, bytes, sentAt: Date.now(), receivedAt, msgId: id };
  }

  /**
   * To the agent (or its wait queue); §8: `accepted` once taken, when the frame had an id. What
   * it answers settles once the entry is handed on (a cluster's per-client order waits for it).
   */
  private route(entry: WaitEntry, ref: string | undefined): Awaitable<void> {
    const taken = this.deps.routing.toAgent(entry, true);
    const failed = (err: unknown) => this.clientFailed(entry.clientId, ref, err);
    const done = andThen(taken, (ok) => {
      if (ref === undefined) return;
      if (ok) this.acceptance.acceptedFromClient(entry.clientId, ref);
    });
    if (!isPromise(done)) return;
    return done.catch(failed);
  }

  private hopSpan(hop: string, destination: string, frameType: string, messageId: string, meta: Record<string, unknown> | undefined) {
    const m = readMeta({ _meta: meta });
    return this.tracer.start({ operation: 'process', hop, destination, frameType, messageId, traceparent: m?.traceparent, tracestate: m?.tracestate });
  }

  /**
   * §9 Stop: `client.cancel` to the name that streams the run to this client (else the name the
   * client gave, else default), through the same pin, wait queue and errors as a `message`.
   */
  private clientCancel(session: Sender, frame: ClientCancelFrame, receivedAt: number): Awaitable<void> {
    const _meta = this.traceOf(frame, frame.runId, frame.id, 'client>agent');
    const payload = _meta === undefined ? cancelToAgent(session, frame.runId) : attachMeta(cancelToAgent(session, frame.runId), JSON.stringify(_meta));
    const bytes = Buffer.byteLength(payload);
    if (bytes > this.cfg.MAX_MESSAGE_BYTES) {
      this.deps.delivery.error(session.clientId, 'payload_too_large', `the cancel to the agent would exceed ${this.cfg.MAX_MESSAGE_BYTES} bytes`, { ref: frame.id });
      return;
    }
    return andThen(this.deps.runs.agentOf(session.clientId, frame.runId), (known) => {
      const agent = known ?? frame.agent ?? DEFAULT_AGENT;
      return this.route({ agent, clientId: session.clientId, ref: frame.id, payload, bytes, sentAt: Date.now(), receivedAt, type: FrameType.clientCancel }, frame.id);
    });
  }

  // ---------------------------------------------------------------- agent → clients

  private agentFrame(conn: AgentConnection, data: RawData, isBinary: boolean): void {
    const receivedAt = performance.now();
    this.deps.liveness.touch(conn.ws);
    if (conn.detached || this.deps.shutdown.closing) return;
    if (isBinary) {
      this.metrics.frameIn('agent', 'invalid');
      this.agentError(conn, 'invalid_json', 'binary frames are not accepted; send JSON text');
      return;
    }
    const text = rawText(data);
    const ackId = fastAckId(text);
    if (ackId !== undefined) {
      this.metrics.frameIn('agent', FrameType.ack, text.length);
      return this.acceptance.ack(conn, ackId);
    }
    const parsed = parseFrame(text, AgentInboundFrame);
    if (!parsed.ok) {
      this.metrics.frameIn('agent', 'invalid');
      this.agentError(conn, parsed.code, parsed.message, { ref: parsed.ref });
      return;
    }
    const frame = parsed.frame;
    this.metrics.frameIn('agent', frame.type, text.length);
    // §8: an opted-in connection acknowledges a client.message (anything else is ignored, no error).
    if (frame.type === FrameType.ack) return this.acceptance.ack(conn, frame.ids === undefined ? frame.id : [frame.id, ...frame.ids]);
    if (this.deps.delivery.checksSessions) return this.clusterAgentFrame(conn, frame, receivedAt);
    const routeIt = (): void => (frame.type === FrameType.send ? this.send(conn, frame, receivedAt) : this.broadcast(conn, frame, receivedAt));
    if (frame.id === undefined) return routeIt();
    // §8: an id this name had accepted within SESSION_TTL_MS: accepted again, delivered to nobody.
    settle(
      andThen(this.acceptance.duplicateFromAgent(conn, frame.id), (dup) => {
        if (!dup) routeIt();
      }),
      (err) => this.agentFailed(conn, frame.id, err),
    );
  }

  /**
   * Cluster: the questions a frame needs answered (its §8 id; a broadcast's sessions) go to Redis
   * at once, pipelined, and its appends are made in arrival order (in-order.ts): a connection's
   * frames keep their order for every client, whichever needed more answers.
   */
  private clusterAgentFrame(conn: AgentConnection, frame: AgentSendFrame | AgentBroadcastFrame, receivedAt: number): void {
    const dup = frame.id === undefined ? false : this.acceptance.duplicateFromAgent(conn, frame.id);
    const ids = frame.type === FrameType.broadcast ? this.deps.stores.sessions.ids() : undefined;
    if (!isPromise(dup) && ids === undefined && conn.order.waiting === 0) {
      if (!dup) this.send(conn, frame as AgentSendFrame, receivedAt);
      return;
    }
    const ready = conn.order.slot();
    Promise.all([dup, ids]).then(
      ([isDup, list]) =>
        ready(() => {
          if (isDup) return;
          if (frame.type === FrameType.send) this.send(conn, frame, receivedAt);
          else this.broadcastTo(conn, frame, list ?? [], receivedAt);
        }),
      (err: unknown) => ready(() => this.agentFailed(conn, frame.id, err)),
    );
  }

  private send(conn: AgentConnection, frame: AgentSendFrame, receivedAt: number): void {
    const template = this.template(conn, frame, receivedAt);
    if (!template) return;
    const targets = [...new Set(typeof frame.to === 'string' ? [frame.to] : frame.to)];
    if (this.deps.delivery.checksSessions) return this.sendChecked(conn, frame, targets, template);
    const { sessions } = this.deps.stores;
    // A client is known from its first connection until its session expires (its record).
    settle(
      thenAll(
        targets.map((clientId) => sessions.get(clientId)),
        (records) => {
          const unknown: string[] = [];
          const stored: Awaitable<void>[] = [];
          records.forEach((record, i) => {
            if (record) stored.push(this.deliverMessage(record.clientId, conn.name, frame.data, 'direct', template));
            else unknown.push(targets[i]!);
          });
          // §8: accepted for the known ones once each copy has its seq and is in the resume buffer.
          if (frame.id !== undefined && stored.length > 0) this.acceptOnceStored(conn, frame.id, stored);
          else for (const s of stored) settle(s, this.onError);
          if (unknown.length) {
            this.agentError(conn, 'unknown_client', `${unknown.length} of the clients are not known`, { ref: frame.id, clientIds: unknown });
          }
        },
      ),
      (err) => this.agentFailed(conn, frame.id, err),
    );
  }

  /** Cluster: each copy is appended only if its session exists, in the same round trip. */
  private sendChecked(conn: AgentConnection, frame: AgentSendFrame, targets: string[], template: SeqMessageTemplate): void {
    const entry = { type: FrameType.message, body: template };
    settle(
      Promise.all(targets.map((id) => this.deps.delivery.deliverKnown(id, 'direct', entry, agentFrameKey(conn, frame.id)))).then((known) => {
        // Only known sessions' runs are remembered (an agent naming random ids must not grow it).
        targets.forEach((id, i) => known[i] && this.deps.runs.note(id, conn.name, frame.data));
        const unknown = targets.filter((_, i) => !known[i]);
        if (frame.id !== undefined && unknown.length < targets.length) this.acceptance.acceptedFromAgent(conn, frame.id);
        if (unknown.length) {
          this.agentError(conn, 'unknown_client', `${unknown.length} of the clients are not known`, { ref: frame.id, clientIds: unknown });
        }
      }),
      (err) => this.agentFailed(conn, frame.id, err),
    );
  }

  private broadcast(conn: AgentConnection, frame: AgentBroadcastFrame, receivedAt: number): void {
    const template = this.template(conn, frame, receivedAt);
    if (!template) return;
    settle(
      andThen(this.deps.stores.sessions.ids(), (ids: string[]) => this.deliverBroadcast(conn, frame, template, ids)),
      (err) => this.agentFailed(conn, frame.id, err),
    );
  }

  /** A broadcast whose sessions are known already (the cluster path asked for them in advance). */
  private broadcastTo(conn: AgentConnection, frame: AgentBroadcastFrame, ids: string[], receivedAt: number): void {
    const template = this.template(conn, frame, receivedAt);
    if (template) this.deliverBroadcast(conn, frame, template, ids);
  }

  private deliverBroadcast(conn: AgentConnection, frame: AgentBroadcastFrame, template: SeqMessageTemplate, ids: string[]): void {
    // One template for all: every session references its body (held once), with its own seq.
    const except = new Set(frame.except ?? []);
    const to = except.size === 0 ? ids : ids.filter((id) => !except.has(id));
    for (const id of to) this.deps.runs.note(id, conn.name, frame.data);
    const stored = this.deps.delivery.deliverAll(to, 'broadcast', { type: FrameType.message, body: template }, agentFrameKey(conn, frame.id));
    if (frame.id !== undefined) this.acceptOnceStored(conn, frame.id, stored);
    else for (const s of stored) settle(s, this.onError);
  }

  private deliverMessage(clientId: string, agent: string, data: unknown, kind: 'direct' | 'broadcast', template: SeqMessageTemplate): Awaitable<void> {
    this.deps.runs.note(clientId, agent, data);
    return this.deps.delivery.deliver(clientId, kind, { type: FrameType.message, body: template });
  }

  /** `accepted` to the agent once every copy is stored (the memory log: at once, no Promise). */
  private acceptOnceStored(conn: AgentConnection, id: string, stored: Awaitable<void>[]): void {
    settle(
      thenAll(stored, () => this.acceptance.acceptedFromAgent(conn, id)),
      (err) => this.agentFailed(conn, id, err),
    );
  }

  /** The frame clients will get, or undefined (and payload_too_large) when it would be too big. */
  private template(conn: AgentConnection, frame: AgentSendFrame | AgentBroadcastFrame, receivedAt: number): SeqMessageTemplate | undefined {
    const id = newMessageId();
    // `_meta` before `ts`: the web server reads `ts` at the frame's end (e2e latency).
    const _meta = this.traceOf(frame, id, frame.id, 'agent>client');
    const span = this.tracer.enabled ? this.hopSpan('agent>client', 'clients', frame.type, id, _meta) : undefined;
    // Run deltas get their offset here, once for all recipients, so that they can be coalesced.
    const data = this.offsets.stamp(conn.name, frame.data);
    const body = _meta === undefined ? { id, from: conn.name, data, ts: nowIso() } : { id, from: conn.name, data, _meta, ts: nowIso() };
    const template = new SeqMessageTemplate(body, deltaPartOf(body));
    template.receivedAt = receivedAt;
    span?.end();
    if (template.maxBytes > this.cfg.MAX_MESSAGE_BYTES) {
      this.agentError(conn, 'payload_too_large', `the message to clients would exceed ${this.cfg.MAX_MESSAGE_BYTES} bytes`, {
        ref: frame.id,
      });
      return undefined;
    }
    return template;
  }

  /**
   * A store failed (cluster mode: Redis unreachable): the frame was not stored, so its sender is
   * answered `unavailable` (instead of `accepted`) and may resend it; the link logs the outage once.
   */
  private clientFailed(clientId: string, ref: string | undefined, err: unknown): void {
    this.log.debug({ err, clientId }, 'a store failed while routing a client frame');
    this.deps.delivery.error(clientId, 'unavailable', 'the frame could not be stored; resend it later', { ref });
  }

  private agentFailed(conn: AgentConnection, ref: string | undefined, err: unknown): void {
    this.log.debug({ err, agentId: conn.agentId }, 'a store failed while routing an agent frame');
    this.agentError(conn, 'unavailable', 'the frame could not be stored; resend it later', { ref });
  }

  private agentError(conn: AgentConnection, code: ErrorCode, message: string, extra: ErrorExtra = {}): void {
    this.metrics.error(code, 'agent', message, conn.name);
    conn.send(FrameType.error, errorFrame(code, message, extra));
  }
}

/** §8: an agent frame's key in a session's log (a shared log appends it there once). */
function agentFrameKey(conn: AgentConnection, id: string | undefined): string | undefined {
  return id === undefined ? undefined : `${conn.name}\n${id}`;
}

/** Who sent a client frame, as the frames to the agent name it. */
interface Sender {
  clientId: string;
  address: string | null;
}

function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
