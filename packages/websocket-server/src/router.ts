/**
 * Data frames: client `message` → the pinned connection of the named agent (or its wait queue),
 * client `cancel` → the same way as `client.cancel`, to the agent streaming that run (runs.ts);
 * agent `send` → listed clients, `broadcast` → every known session but `except`. Bad frames are
 * answered with an `error` frame to the sender only; the socket stays open.
 */
import type { RawData } from 'ws';
import {
  AgentFrame,
  ClientFrame,
  CloseCode,
  DEFAULT_AGENT,
  FrameType,
  attachMeta,
  ensureMeta,
  peekRef,
  readMeta,
  parseFrame,
  type AgentBroadcastFrame,
  type AgentSendFrame,
  type ClientCancelFrame,
  type ClientMessageFrame,
  type Config,
  type ErrorCode,
  type Logger,
} from '@agent-bridge/common';
import type { AgentConnection } from './agent-connection.ts';
import type { WaitEntry } from './agent-wait-queue.ts';
import type { ClientConnection } from './client-connection.ts';
import type { ClientSession } from './client-session.ts';
import { deltaPartOf } from './coalescing.ts';
import { SeqMessageTemplate, errorFrame, nowIso, type ErrorExtra } from './frames-out.ts';
import type { Heartbeat } from './heartbeat.ts';
import { newMessageId } from './ids.ts';
import type { BrokerMetrics } from './metrics.ts';
import { StreamOffsets, cancelToAgent } from './runs.ts';
import { NOOP_TRACER, type HopTracer } from '@agent-bridge/common/otel';
import type { StateManager } from './state-manager.ts';

export class Router {
  /** Offsets stamped on run deltas that lack one, per agent name and stream (PROTOCOL §9). */
  private readonly offsets = new StreamOffsets();
  /** OpenTelemetry spans per hop, when OTEL_EXPORTER_OTLP_ENDPOINT is set (server.ts). */
  tracer: HopTracer = NOOP_TRACER;
  /** TRACE=off: no trace started for frames without `_meta` (cost comparison). */
  private readonly tracing: boolean;
  private readonly debug: boolean;

  constructor(
    private readonly state: StateManager,
    private readonly cfg: Config,
    private readonly metrics: BrokerMetrics,
    private readonly heartbeat: Heartbeat,
    private readonly log: Logger,
  ) {
    state.routeToAgent = (e) => this.toAgent(e);
    state.rejectEntry = (e) => this.reject(e);
    this.tracing = cfg.TRACE !== 'off';
    this.debug = log.isLevelEnabled('debug');
  }

  /** The `_meta` to forward (§11): the frame's own if valid, else a new trace (TRACE=on); logged at debug. */
  private traceOf(frame: { _meta?: Record<string, unknown> | undefined }, msgId: string, ref: string | undefined, hop: string): Record<string, unknown> | undefined {
    if (!this.tracing) return frame._meta;
    const { meta, traceId } = ensureMeta(frame);
    if (this.debug) this.log.debug({ traceId, msgId, ref, hop }, 'frame routed');
    return meta;
  }

  // ---------------------------------------------------------------- client → agent

  /** Bad input must never take the broker down: anything unexpected becomes an `internal` error. */
  onClientFrame(conn: ClientConnection, data: RawData, isBinary: boolean): void {
    try {
      this.clientFrame(conn, data, isBinary);
    } catch (err) {
      this.log.warn({ err, clientId: conn.clientId }, 'failed to handle a client frame');
      this.clientError(conn.session, 'internal', 'the frame could not be handled');
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
    this.heartbeat.touch(conn.ws);
    if (conn.detached || this.state.closing) return;
    const session = conn.session;
    const text = isBinary ? undefined : rawText(data);
    const verdict = session.rate.check();
    if (verdict !== 'ok') {
      this.metrics.frameIn('client', 'invalid');
      if (verdict === 'abuse') {
        this.state.cutClient(conn, CloseCode.policy, 'rate limit exceeded repeatedly');
        return;
      }
      this.clientError(session, 'rate_limited', 'too many frames; slow down', { ref: text === undefined ? undefined : peekRef(text) });
      return;
    }
    if (text === undefined) {
      this.metrics.frameIn('client', 'invalid');
      this.clientError(session, 'invalid_json', 'binary frames are not accepted; send JSON text');
      return;
    }
    const parsed = parseFrame(text, ClientFrame);
    if (!parsed.ok) {
      this.metrics.frameIn('client', 'invalid');
      this.clientError(session, parsed.code, parsed.message, { ref: parsed.ref });
      return;
    }
    const frame = parsed.frame;
    this.metrics.frameIn('client', frame.type, text.length);
    if (frame.type === FrameType.ack) session.ack(frame.seq);
    else if (frame.type === FrameType.cancel) this.clientCancel(session, frame, receivedAt);
    else this.clientMessage(session, frame, receivedAt);
  }

  private clientMessage(session: ClientSession, frame: ClientMessageFrame, receivedAt: number): void {
    const id = newMessageId();
    const _meta = this.traceOf(frame, id, frame.id, 'client>agent');
    const span = this.tracer.enabled ? this.hopSpan('client>agent', frame.agent ?? DEFAULT_AGENT, FrameType.message, id, _meta) : undefined;
    const payload = JSON.stringify({
      type: FrameType.clientMessage,
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
    if (bytes > this.cfg.MAX_MESSAGE_BYTES) {
      this.clientError(session, 'payload_too_large', `the message to the agent would exceed ${this.cfg.MAX_MESSAGE_BYTES} bytes`, {
        ref: frame.id,
      });
      return;
    }
    this.toAgent({ agent: frame.agent ?? DEFAULT_AGENT, clientId: session.clientId, ref: frame.id, payload, bytes, sentAt: Date.now(), receivedAt });
  }

  private hopSpan(hop: string, destination: string, frameType: string, messageId: string, meta: Record<string, unknown> | undefined) {
    const m = readMeta({ _meta: meta });
    return this.tracer.start({ operation: 'process', hop, destination, frameType, messageId, traceparent: m?.traceparent, tracestate: m?.tracestate });
  }

  /**
   * §9 Stop: `client.cancel` to the name that streams the run to this client (else the name the
   * client gave, else default), through the same pin, wait queue and errors as a `message`.
   */
  private clientCancel(session: ClientSession, frame: ClientCancelFrame, receivedAt: number): void {
    const _meta = this.traceOf(frame, frame.runId, frame.id, 'client>agent');
    const payload = _meta === undefined ? cancelToAgent(session, frame.runId) : attachMeta(cancelToAgent(session, frame.runId), JSON.stringify(_meta));
    const bytes = Buffer.byteLength(payload);
    if (bytes > this.cfg.MAX_MESSAGE_BYTES) {
      this.clientError(session, 'payload_too_large', `the cancel to the agent would exceed ${this.cfg.MAX_MESSAGE_BYTES} bytes`, { ref: frame.id });
      return;
    }
    const agent = session.runs.agentOf(frame.runId) ?? frame.agent ?? DEFAULT_AGENT;
    this.toAgent({ agent, clientId: session.clientId, ref: frame.id, payload, bytes, sentAt: Date.now(), receivedAt, type: FrameType.clientCancel });
  }

  /** To the client's pinned connection of that name, else the name's wait queue. */
  toAgent(entry: WaitEntry): void {
    if (this.state.closing) return;
    const conn = this.state.agents.get(entry.agent)?.pick(entry.clientId);
    if (conn) return conn.sendClientMessage(entry);
    const result = this.state.waitQueues.offer(entry);
    if (result === 'full') this.reject(entry);
    else if (result === 'over_capacity') {
      // The broker is full, not this client's bound: say so, so the client backs off and retries.
      this.metrics.capacityRefusals.inc({ budget: 'wait_queue' });
      const session = this.state.sessions.get(entry.clientId);
      if (session) this.clientError(session, 'over_capacity', 'the broker holds too many waiting messages; retry later', { ref: entry.ref });
    }
  }

  private reject(entry: WaitEntry): void {
    const session = this.state.sessions.get(entry.clientId);
    if (!session) return;
    this.clientError(session, 'agent_unavailable', `no agent "${entry.agent}" took the message`, { ref: entry.ref });
  }

  private clientError(session: ClientSession, code: ErrorCode, message: string, extra: ErrorExtra = {}): void {
    this.metrics.error(code, 'client', message);
    session.sendUnsequenced(FrameType.error, errorFrame(code, message, extra));
  }

  // ---------------------------------------------------------------- agent → clients

  private agentFrame(conn: AgentConnection, data: RawData, isBinary: boolean): void {
    const receivedAt = performance.now();
    this.heartbeat.touch(conn.ws);
    if (conn.detached || this.state.closing) return;
    if (isBinary) {
      this.metrics.frameIn('agent', 'invalid');
      this.agentError(conn, 'invalid_json', 'binary frames are not accepted; send JSON text');
      return;
    }
    const text = rawText(data);
    const parsed = parseFrame(text, AgentFrame);
    if (!parsed.ok) {
      this.metrics.frameIn('agent', 'invalid');
      this.agentError(conn, parsed.code, parsed.message, { ref: parsed.ref });
      return;
    }
    this.metrics.frameIn('agent', parsed.frame.type, text.length);
    if (parsed.frame.type === FrameType.send) this.send(conn, parsed.frame, receivedAt);
    else this.broadcast(conn, parsed.frame, receivedAt);
  }

  private send(conn: AgentConnection, frame: AgentSendFrame, receivedAt: number): void {
    const template = this.template(conn, frame, receivedAt);
    if (!template) return;
    const targets = [...new Set(typeof frame.to === 'string' ? [frame.to] : frame.to)];
    const unknown: string[] = [];
    for (const clientId of targets) {
      const session = this.state.sessions.get(clientId);
      if (session) {
        session.runs.note(conn.name, frame.data);
        session.deliverShared('direct', FrameType.message, template);
      } else unknown.push(clientId);
    }
    if (unknown.length) {
      this.agentError(conn, 'unknown_client', `${unknown.length} of the clients are not known`, { ref: frame.id, clientIds: unknown });
    }
  }

  private broadcast(conn: AgentConnection, frame: AgentBroadcastFrame, receivedAt: number): void {
    const template = this.template(conn, frame, receivedAt);
    if (!template) return;
    const except = new Set(frame.except ?? []);
    for (const session of [...this.state.sessions.values()]) {
      // One template for all: every session references its body (held once), with its own seq.
      if (except.has(session.clientId)) continue;
      session.runs.note(conn.name, frame.data);
      session.deliverShared('broadcast', FrameType.message, template);
    }
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

  private agentError(conn: AgentConnection, code: ErrorCode, message: string, extra: ErrorExtra = {}): void {
    this.metrics.error(code, 'agent', message, conn.name);
    conn.send(FrameType.error, errorFrame(code, message, extra));
  }
}

function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
