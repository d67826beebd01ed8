/**
 * One agent runtime's link to the broker: dials `/ws/agent`, keeps the client list, sends and
 * queues frames, and redials after any drop. The public surface is small (see README.md); the
 * interesting part is the lifecycle, driven by one WebSocket at a time:
 *
 *   connecting ──open──▶ open ──welcome──▶ ready ──drop──▶ waiting ──timer──▶ connecting …
 *        └────────────── close(), 401, 1008/1009/45xx ──────────────▶ stopped
 */
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import {
  AgentFrame,
  Backoff,
  BridgeToAgentFrame,
  CloseCode,
  FrameType,
  Header,
  AGENT_ACKS_ON,
  ACCEPTED_FIELD,
  ACCEPTED_INLINE,
  ACK_IDS_MAX,
  SystemEvent,
  decodeJson,
  shouldReconnect,
  validateFrame,
  type AgentClientsFrame,
  type AgentMessage,
  type AgentWelcomeFrame,
  type ClientMessageToAgentFrame,
  traceIdOf,
  type TraceMeta,
} from '@agent-bridge/common/protocol';
import { batchSend, createLogger, redactUrl, turnBatcher, type Logger } from '@agent-bridge/common';
import { ClientEvent } from './client-events.ts';
import { ClientRegistry, type KnownClient } from './client-registry.ts';
import { AgentSdkError, type AgentSdkErrorCode } from './errors.ts';
import type { AgentErrorEvent, AgentEvents } from './events.ts';
import { resolveOptions, type ConnectAgentOptions, type ResolvedOptions } from './options.ts';
import { Outbox } from './outbox.ts';
import { RunRegistry } from './run-registry.ts';
import { RunWriter, type RunOptions, type RunTarget } from './run.ts';
import { describeRefusal, type Refusal } from './refusal.ts';
import { Watchdog } from './watchdog.ts';
import { ReadyProbe } from './ready-probe.ts';
import { MessageAcks, type ClientMessageEvent } from './message-acks.ts';
import { createSdkMetrics, type SdkMetrics } from './metrics.ts';
import type { AgentSpan, AgentTracer } from './tracing.ts';

const ACCEPTED_PREFIX = `{"type":"${FrameType.accepted}","ref":`;
/** The ref of an `accepted` frame in the bridge's exact shape, else undefined (parsed the long way). */
function acceptedRef(text: string): string | undefined {
  if (text.charCodeAt(text.length - 1) !== 125 /* } */) return undefined;
  try {
    const ref: unknown = JSON.parse(text.slice(ACCEPTED_PREFIX.length, -1));
    return typeof ref === 'string' ? ref : undefined;
  } catch {
    return undefined;
  }
}

export type AgentState = 'connecting' | 'open' | 'ready' | 'waiting' | 'stopped';

export class Agent extends EventEmitter<AgentEvents> {
  readonly name: string;
  private readonly opts: ResolvedOptions;
  private readonly log: Logger;
  private readonly registry = new ClientRegistry();
  private readonly outbox: Outbox;
  private readonly backoff: Backoff;
  private ws: WebSocket | undefined;
  private stateValue: AgentState = 'connecting';
  private agentIdValue: string | undefined;
  private redialAttempt = 0;
  /** Which of opts.endpoints the next dial goes to: each redial moves on to the next broker. */
  private endpointIndex = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  /** While waiting to redial: the broker's /readyz, to redial as soon as it is back (ready-probe.ts). */
  private readyProbe: ReadyProbe | undefined;
  /** A redial was brought forward since the last welcome: the rest of this outage keeps the plain schedule. */
  private woken = false;
  private pingTimer: NodeJS.Timeout | undefined;
  private openedAt: number | undefined;
  private readonly watchdog: Watchdog;
  private closing: Promise<void> | undefined;
  private closeResolvers: (() => void)[] = [];
  private frameCounter = 0;
  /**
   * Generated ids are `a-<this process's random prefix>-<n>`: the bridge de-duplicates resends by
   * id per agent name (§8), so a restarted agent must never reuse an id of its predecessor.
   */
  private readonly idPrefix = `a-${Math.random().toString(36).slice(2, 10)}-`;
  /** §8 on the current connection: we opted in and the bridge's welcome said it honours it. */
  private acksOn = false;
  /**
   * The broker reads an ack's `ids` list (welcome `ackIds`, our §8 extension): the acks of one
   * turn leave as one frame, in the same write as that turn's replies (flushAcks).
   */
  private ackIdsOn = false;
  /** Acks of this turn not yet written, and the socket they belong to. */
  private pendingAcks: string[] = [];
  private pendingAcksWs: WebSocket | undefined;
  private readonly flushAcks = (): void => {
    const ids = this.pendingAcks;
    const ws = this.pendingAcksWs;
    this.pendingAcks = [];
    this.pendingAcksWs = undefined;
    // A connection that went meanwhile: its unacknowledged messages come again (redelivered) on the next.
    if (ids.length === 0 || ws === undefined || this.ws !== ws || ws.readyState !== WebSocket.OPEN) return;
    for (let i = 0; i < ids.length; i += ACK_IDS_MAX + 1) {
      const [id, ...rest] = ids.slice(i, i + ACK_IDS_MAX + 1);
      ws.send(rest.length === 0 ? `{"type":"ack","id":${JSON.stringify(id)}}` : JSON.stringify({ type: FrameType.ack, id, ids: rest }));
    }
  };
  private readonly messageAcks = new MessageAcks();
  /**
   * A welcome with `more:true` waiting for its `clients` pages (the broker pages the list so no
   * frame exceeds MAX_MESSAGE_BYTES). The connection counts as welcomed, and `welcome` is
   * emitted, only once the list is complete, so listeners see every client as before.
   */
  private pendingWelcome: { ws: WebSocket; frame: AgentWelcomeFrame } | undefined;
  private runRegistry: RunRegistry | undefined;
  /** Set only when the user opted in (and the tracer is on): otherwise no per-frame span work. */
  private readonly tracer: AgentTracer | undefined;
  /** A client.message → the traceparent of its receive span, for the reply's send span. */
  private readonly receivedIn = new WeakMap<object, string>();
  /** Set only with the metricsRegistry option. */
  private readonly metrics: SdkMetrics | undefined;
  private pingSentAt = 0;

  constructor(options: ConnectAgentOptions) {
    // An async listener that rejects lands in captureRejectionSymbol below, not in an unhandled rejection.
    super({ captureRejections: true });
    this.opts = resolveOptions(options);
    this.name = this.opts.name;
    this.log = (options.logger ?? createLogger('agent-sdk', { level: 'warn', destination: process.stderr })).child({
      module: 'agent-sdk',
      agent: this.name,
    });
    this.outbox = new Outbox(this.opts.outboxLimit);
    this.tracer = options.tracer?.enabled ? options.tracer : undefined;
    this.metrics = options.metricsRegistry ? createSdkMetrics(options.metricsRegistry) : undefined;
    this.backoff = new Backoff(this.opts.backoff);
    this.watchdog = new Watchdog(this.opts.heartbeatTimeoutMs, () => this.onSilence());
    this.dial();
  }

  // ---------------------------------------------------------------- public state

  /** True once the bridge welcomed this connection (frames go straight out). */
  get connected(): boolean {
    return this.stateValue === 'ready';
  }

  get state(): AgentState {
    return this.stateValue;
  }

  /** The bridge's id for the current (or last) connection, from its welcome. */
  get agentId(): string | undefined {
    return this.agentIdValue;
  }

  /**
   * Clients the bridge knows (from its welcome and lifecycle events). While disconnected it is the
   * last known view; the next welcome replaces it.
   */
  get clients(): ReadonlyMap<string, KnownClient> {
    return this.registry.map;
  }

  /**
   * Frames the bridge has not taken yet: waiting for the next connection, and (with §8 acks)
   * written but not yet answered `accepted`.
   */
  get pending(): number {
    return this.outbox.size;
  }

  // ---------------------------------------------------------------- sending

  /**
   * Send `data` to one client or a list. Returns the frame id (yours or a generated `a-N`), which
   * the bridge echoes as `ref` in an `error` event (e.g. `unknown_client`). Throws AgentSdkError:
   * `invalid_frame`, `outbox_full` (disconnected and the outbox is full), `closed`.
   */
  send(to: string | string[], data: unknown, opts: { id?: string; _meta?: Record<string, unknown> } = {}): string {
    const id = opts.id ?? this.nextId();
    if (this.tracer && opts._meta !== undefined) return this.sendTraced(this.tracer, id, to, data, opts._meta);
    this.enqueue(opts._meta === undefined ? { type: FrameType.send, id, to, data } : { type: FrameType.send, id, to, data, _meta: opts._meta });
    return id;
  }

  /** A send span, child of the `_meta` trace; the frame's traceparent then names it (same trace id). */
  private sendTraced(tracer: AgentTracer, id: string, to: string | string[], data: unknown, meta: Record<string, unknown>): string {
    const parent = typeof meta.traceparent === 'string' ? meta.traceparent : undefined;
    const span = tracer.start({
      operation: 'send',
      hop: 'agent>broker',
      destination: this.name,
      frameType: FrameType.send,
      messageId: id,
      traceparent: parent,
      tracestate: typeof meta.tracestate === 'string' ? meta.tracestate : undefined,
    });
    const _meta = parent !== undefined && span.traceparent ? { ...meta, traceparent: span.traceparent } : meta;
    try {
      this.enqueue({ type: FrameType.send, id, to, data, _meta });
    } catch (err) {
      span.end(err);
      throw err;
    }
    span.end();
    return id;
  }

  /**
   * Answer the client a `message` event came from. The message's `_meta` (its trace context,
   * PROTOCOL §11) goes on the answer, so one trace id follows the exchange both ways.
   */
  reply(msg: Pick<ClientMessageToAgentFrame, 'clientId'> & { _meta?: Record<string, unknown> | undefined }, data: unknown): string {
    if (msg._meta === undefined) return this.send(msg.clientId, data);
    // Traced: the reply's span is the child of this message's receive span.
    const received = this.tracer ? this.receivedIn.get(msg) : undefined;
    return this.send(msg.clientId, data, { _meta: received === undefined ? msg._meta : { ...msg._meta, traceparent: received } });
  }

  /** Send `data` to every known client except those listed. Same errors as send(). */
  broadcast(data: unknown, opts: { except?: string[]; id?: string } = {}): string {
    const id = opts.id ?? this.nextId();
    this.enqueue(
      opts.except === undefined ? { type: FrameType.broadcast, id, data } : { type: FrameType.broadcast, id, data, except: opts.except },
    );
    return id;
  }

  /**
   * Close with 1000 and never redial. Resolves once the socket is closed. Frames still in the
   * outbox (possible only while disconnected) are discarded, with a warning in the log.
   */
  close(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    const previous = this.stateValue;
    this.stateValue = 'stopped';
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.readyProbe?.stop();
    if (this.outbox.size > 0) this.log.warn({ discarded: this.outbox.drain().length }, 'closed with frames still in the outbox');
    const ws = this.ws;
    if (!ws) {
      this.closing = Promise.resolve();
      // Waiting between redials: there is no socket whose close would tell listeners we stopped.
      if (previous !== 'stopped') this.emitSafe('close', { code: CloseCode.normal, reason: 'closed by the agent', willReconnect: false });
      return this.closing;
    }
    this.closing = new Promise((resolve) => this.closeResolvers.push(resolve));
    ws.close(CloseCode.normal, 'agent closing');
    // A peer that never answers the closing handshake must not keep close() pending.
    setTimeout(() => ws.terminate(), Math.min(this.opts.heartbeatTimeoutMs, 5000)).unref();
    return this.closing;
  }

  /**
   * Start a streamed reply (AG-UI run, PROTOCOL §9) to a client: see run.ts. Its `signal` fires
   * when the client cancels the run; interrupt() awaits the client's answer.
   */
  run(target: RunTarget, opts: RunOptions = {}): RunWriter {
    return new RunWriter(this, target, opts);
  }

  /** Live runs, for cancel and interrupt answers (used by run writers and the AG-UI adapter). */
  get runs(): RunRegistry {
    return (this.runRegistry ??= new RunRegistry());
  }

  // ---------------------------------------------------------------- connection lifecycle

  private dial(): void {
    this.stateValue = 'connecting';
    this.readyProbe?.stop();
    const endpoint = this.opts.endpoints[this.endpointIndex % this.opts.endpoints.length]!;
    this.log.debug({ url: redactUrl(endpoint) }, 'dialing');
    const ws = new WebSocket(endpoint, {
      headers: this.opts.acks
        ? {
            Authorization: `Bearer ${this.opts.token}`,
            [Header.agentName]: this.name,
            [Header.agentAcks]: AGENT_ACKS_ON,
            // §8 extension: the answers to our sends ride on the bridge's next frame (a bridge
            // without it sends them as frames, which settle the same way).
            [Header.agentAccepted]: ACCEPTED_INLINE,
          }
        : { Authorization: `Bearer ${this.opts.token}`, [Header.agentName]: this.name },
      handshakeTimeout: this.opts.heartbeatTimeoutMs,
    });
    this.ws = ws;
    let refusal: Refusal | undefined;
    // A failed dial closes with 1006 and no reason; the socket error says why (ECONNREFUSED …).
    let lastError = '';
    const current = () => this.ws === ws;

    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (body.length < 4096) body += chunk;
      });
      const done = () => {
        if (refusal) return;
        refusal = describeRefusal(res.statusCode ?? 0, body);
        ws.terminate();
      };
      res.on('end', done);
      res.on('error', done);
      setTimeout(done, 1000).unref();
    });
    ws.on('open', () => {
      if (!current()) return;
      this.stateValue = 'open';
      this.openedAt = Date.now();
      this.watchdog.touch();
      this.startPinging(ws);
      this.log.debug('socket open, waiting for the welcome');
      this.emitSafe('open');
    });
    ws.on('message', (raw, isBinary) => {
      if (!current()) return;
      this.watchdog.touch();
      this.onFrame(raw, isBinary);
    });
    ws.on('ping', () => current() && this.watchdog.touch());
    ws.on('pong', () => {
      if (!current()) return;
      this.watchdog.touch();
      if (this.metrics && this.pingSentAt > 0) this.metrics.heartbeatRtt((performance.now() - this.pingSentAt) / 1000);
      this.pingSentAt = 0;
    });
    // Errors always end in 'close', which decides what happens next; without a listener ws would throw.
    ws.on('error', (err) => {
      if (!current()) return;
      lastError = err.message;
      this.log.debug({ err: err.message }, 'socket error');
    });
    ws.on('close', (code, reasonBuf) => {
      if (!current()) return;
      this.onSocketClosed(code, refusal ? refusal.message : reasonBuf.toString() || lastError, refusal);
    });
  }

  private onSocketClosed(code: number, reason: string, refusal: Refusal | undefined): void {
    this.ws = undefined;
    this.acksOn = false;
    this.ackIdsOn = false;
    this.watchdog.stop();
    clearInterval(this.pingTimer);
    this.pingTimer = undefined;
    const wasOpen = this.openedAt !== undefined;
    if (this.openedAt !== undefined && Date.now() - this.openedAt >= this.opts.resetAfterMs) this.backoff.reset();
    this.openedAt = undefined;

    if (this.stateValue === 'stopped') {
      this.emitSafe('close', { code, reason, willReconnect: false });
      for (const resolve of this.closeResolvers.splice(0)) resolve();
      return;
    }
    if (refusal?.status === 401) {
      this.stop();
      this.log.error({ status: refusal.status }, 'the broker refused the agent token (401); not redialing');
      this.emitSafe('unauthorized', { status: refusal.status, code: refusal.code, message: refusal.message });
      this.emitSafe('close', { code, reason, willReconnect: false });
      return;
    }
    if (refusal) this.emitLocalError('upgrade_refused', refusal.message, refusal.code);
    if (refusal?.permanent || !shouldReconnect(code)) {
      this.stop();
      this.log.error({ code, reason, status: refusal?.status }, 'connection ended for good; not redialing');
      this.emitSafe('close', { code, reason, willReconnect: false });
      return;
    }
    this.stateValue = 'waiting';
    this.emitSafe('close', { code, reason, willReconnect: true });
    // A close listener may have called close().
    if (this.stateValue === 'waiting') this.scheduleRedial(code, reason, wasOpen);
  }

  private scheduleRedial(code: number, reason: string, wasOpen: boolean): void {
    this.redialAttempt++;
    // Several brokers (one cluster): the redial goes to the next one in the list.
    this.endpointIndex = (this.endpointIndex + 1) % this.opts.endpoints.length;
    const delayMs = this.backoff.next();
    this.log.warn(
      { code, reason, attempt: this.redialAttempt, retryInMs: delayMs },
      wasOpen ? 'connection to the broker lost; redialing' : 'could not reach the broker; redialing',
    );
    this.emitSafe('reconnecting', { attempt: this.redialAttempt, delayMs, code });
    if (this.stateValue !== 'waiting') return;
    const redial = (ms: number) => {
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        if (this.stateValue === 'waiting') this.dial();
      }, ms);
    };
    redial(delayMs);
    // Once per outage: a broker whose /readyz answers but which refuses the upgrade must not be
    // redialled every second instead of on the schedule.
    if (this.woken) return;
    const due = Date.now() + delayMs;
    this.readyProbe ??= new ReadyProbe({ timeoutMs: Math.min(2000, this.opts.heartbeatTimeoutMs) });
    this.readyProbe.start(this.opts.endpoints[this.endpointIndex % this.opts.endpoints.length]!, (ms) => {
      if (this.stateValue !== 'waiting' || due - Date.now() <= ms) return;
      this.woken = true;
      redial(ms);
    });
  }

  /** Stopped by the bridge's answer, not by close(): later close() calls just resolve. */
  private stop(): void {
    this.stateValue = 'stopped';
    this.closing = Promise.resolve();
    if (this.outbox.size > 0) this.log.warn({ discarded: this.outbox.drain().length }, 'stopped with frames still in the outbox');
  }

  private onSilence(): void {
    const ws = this.ws;
    if (!ws) return;
    this.log.warn({ silentForMs: this.opts.heartbeatTimeoutMs }, 'no frame or ping from the broker; treating the connection as dead');
    // terminate() closes with 1006, which redials.
    ws.terminate();
  }

  /** Our own pings make the broker answer with pongs, so a quiet but healthy link stays "alive". */
  private startPinging(ws: WebSocket): void {
    clearInterval(this.pingTimer);
    const every = Math.max(10, Math.floor(this.opts.heartbeatTimeoutMs / 3));
    this.pingTimer = setInterval(() => {
      if (ws.readyState !== WebSocket.OPEN) return;
      if (this.metrics) this.pingSentAt = performance.now();
      ws.ping();
    }, every);
    this.pingTimer.unref();
  }

  // ---------------------------------------------------------------- inbound frames

  private onFrame(raw: WebSocket.RawData, isBinary: boolean): void {
    if (isBinary) {
      this.emitLocalError('invalid_bridge_frame', 'the bridge sent a binary frame; ignored');
      return;
    }
    const text = raw.toString();
    // §8 hot path: one `accepted` per frame sent, in exactly this shape; no schema walk for it.
    if (text.startsWith(ACCEPTED_PREFIX)) {
      const ref = acceptedRef(text);
      if (ref !== undefined) {
        this.outbox.settle(ref);
        return;
      }
    }
    const decoded = decodeJson(text);
    if (!decoded.ok) {
      this.emitLocalError('invalid_bridge_frame', `the bridge sent a frame that is not a JSON object: ${decoded.message}`);
      return;
    }
    // accepted=inline: our sends the bridge accepted just before this frame (asked for with acks).
    const carried = decoded.value[ACCEPTED_FIELD];
    if (carried !== undefined && this.opts.acks && Array.isArray(carried)) {
      for (const ref of carried) if (typeof ref === 'string') this.outbox.settle(ref);
    }
    const parsed = validateFrame(decoded.value, BridgeToAgentFrame);
    if (!parsed.ok) {
      this.emitLocalError('invalid_bridge_frame', `the bridge sent an invalid frame: ${parsed.message}`);
      return;
    }
    const frame = parsed.frame;
    switch (frame.type) {
      case FrameType.welcome:
        this.onWelcome(frame);
        break;
      case FrameType.clients:
        this.onClientsPage(frame);
        break;
      case FrameType.clientMessage: {
        this.metrics?.toAgent(frame.ts);
        if (this.debugLog) this.log.debug({ traceId: traceIdOf(frame._meta as TraceMeta | undefined), msgId: frame.id, ref: frame.ref }, 'client message');
        const span = this.tracer ? this.receiveSpan(this.tracer, frame, raw) : undefined;
        this.registry.seen(frame);
        this.onClientMessage(frame);
        // Synchronous listeners ran; an async handler's reply still finds its parent in receivedIn.
        span?.end();
        break;
      }
      case FrameType.accepted:
        this.outbox.settle(frame.ref);
        break;
      case FrameType.clientCancel:
        this.runRegistry?.onCancel(frame);
        this.emitSafe('client.cancel', frame);
        break;
      case FrameType.system: {
        const ev = ClientEvent.safeParse(frame);
        if (ev.success) {
          this.registry.apply(ev.data);
          this.emitClientEvent(ev.data);
        } else if (frame.event.startsWith('client.') && frame.event in SystemEvent) {
          this.log.warn({ event: frame.event }, 'client event without the fields it needs; emitted as system only');
        }
        this.emitSafe('system', frame);
        break;
      }
      case FrameType.error:
        // Refused: the bridge will never take it; the caller hears why through the event.
        if (frame.ref !== undefined) this.outbox.settle(frame.ref);
        this.emitError(frame);
        break;
    }
  }

  /**
   * Hand a client message to the listeners, then (§8, when this connection acknowledges)
   * acknowledge it: when they have all returned, async ones settled, or when one calls `ack()`.
   */
  private onClientMessage(frame: ClientMessageToAgentFrame): void {
    const ws = this.ws;
    const acking = this.acksOn;
    let acked = !acking;
    const sendAck = (): void => {
      if (acked) return;
      acked = true;
      // On a later connection the bridge has already queued it again (redelivered); that copy is acknowledged then.
      if (this.ws === ws && ws !== undefined && ws.readyState === WebSocket.OPEN) {
        if (this.ackIdsOn) return this.queueAck(ws, frame.id);
        batchSend(ws);
        ws.send(`{"type":"ack","id":${JSON.stringify(frame.id)}}`);
      }
    };
    if (acking && !this.messageAcks.shouldHandle(frame, sendAck)) return;
    const msg = frame as ClientMessageEvent;
    Object.defineProperty(msg, 'ack', { value: sendAck, enumerable: false, configurable: true });
    // An answer to a run's pending interrupt goes to that run, not to message listeners.
    if (this.runRegistry?.onMessage(frame)) {
      sendAck();
      return;
    }
    if (!acking) {
      this.emitSafe('message', msg);
      return;
    }
    const done = this.callMessageListeners(msg);
    this.messageAcks.started(frame.id, done);
    if (done !== undefined) void done.then(sendAck);
    else sendAck();
  }

  /**
   * One `ack` frame per turn (with `ids`): the first ack of a turn holds the socket (its writes
   * leave at the end of the turn) and has the batcher write the turn's acks just before that.
   */
  private queueAck(ws: WebSocket, id: string): void {
    if (this.pendingAcksWs !== ws) {
      this.pendingAcks = [];
      this.pendingAcksWs = ws;
    }
    this.pendingAcks.push(id);
    if (this.pendingAcks.length > 1) return;
    batchSend(ws);
    turnBatcher.beforeFlush(this.flushAcks);
  }

  /**
   * emit('message') by hand, to learn when async listeners finish: undefined when every listener
   * returned synchronously, else a promise that settles when all have (never rejects).
   */
  private callMessageListeners(msg: ClientMessageEvent): Promise<void> | undefined {
    let pending: Promise<unknown>[] | undefined;
    for (const listener of this.rawListeners('message') as ((m: ClientMessageEvent) => unknown)[]) {
      try {
        const r = listener.call(this, msg);
        if (r !== null && typeof r === 'object' && typeof (r as Promise<unknown>).then === 'function') {
          const p = Promise.resolve(r as Promise<unknown>).catch((err: unknown) => {
            this.log.error({ err, event: 'message' }, 'an async agent event listener rejected');
            this.emitLocalError('listener_failed', `a "message" listener rejected: ${(err as Error)?.message ?? String(err)}`);
          });
          (pending ??= []).push(p);
        }
      } catch (err) {
        this.log.error({ err, event: 'message' }, 'an agent event listener threw');
        this.emitLocalError('listener_failed', `a "message" listener threw: ${(err as Error)?.message ?? String(err)}`);
      }
    }
    return pending ? Promise.all(pending).then(() => undefined) : undefined;
  }

  private receiveSpan(tracer: AgentTracer, frame: ClientMessageToAgentFrame, raw: WebSocket.RawData): AgentSpan {
    const meta = frame._meta as Record<string, unknown> | undefined;
    const span = tracer.start({
      operation: 'receive',
      hop: 'broker>agent',
      destination: this.name,
      frameType: FrameType.clientMessage,
      messageId: frame.id,
      bytes: Buffer.isBuffer(raw) ? raw.length : undefined,
      traceparent: typeof meta?.traceparent === 'string' ? meta.traceparent : undefined,
      tracestate: typeof meta?.tracestate === 'string' ? meta.tracestate : undefined,
    });
    if (span.traceparent) this.receivedIn.set(frame, span.traceparent);
    return span;
  }

  private onWelcome(frame: AgentWelcomeFrame): void {
    // A welcome racing our own close() must not bring a stopped agent back to life.
    if (this.stateValue === 'stopped') return;
    this.agentIdValue = frame.agentId;
    this.registry.reset(frame);
    if (frame.more === true) {
      this.pendingWelcome = { ws: this.ws!, frame };
      return;
    }
    this.pendingWelcome = undefined;
    this.completeWelcome(frame);
  }

  /** A page of the client list after a welcome with `more:true`; the last one completes it. */
  private onClientsPage(frame: AgentClientsFrame): void {
    const pending = this.pendingWelcome;
    if (!pending || pending.ws !== this.ws || this.stateValue === 'stopped') {
      this.log.debug('a clients page without a pending welcome; ignored');
      return;
    }
    this.registry.addPage(frame);
    if (frame.more) return;
    this.pendingWelcome = undefined;
    // Listeners get one welcome listing every client, as from a bridge that does not page.
    const { more: _more, ...rest } = pending.frame;
    // Our own `acks` flag stays on the welcome (completeWelcome reads it).
    this.completeWelcome({ ...rest, clients: this.registry.list() });
  }

  private completeWelcome(frame: AgentWelcomeFrame): void {
    this.stateValue = 'ready';
    this.redialAttempt = 0;
    this.woken = false;
    this.acksOn = this.opts.acks && frame.acks === true;
    this.ackIdsOn = this.acksOn && frame.ackIds === true;
    // With acks, frames stay held until `accepted`: those the last connection may have lost are
    // sent again, in order, before the new ones (the bridge answers a resent id accepted again).
    const queued = this.acksOn ? this.outbox.all() : this.outbox.drain();
    const ws = this.ws!;
    // In order, before anything the welcome listeners send; one write for the lot.
    if (queued.length > 0) batchSend(ws);
    for (const s of queued) ws.send(s);
    this.log.info({ agentId: frame.agentId, clients: frame.clients.length, flushed: queued.length }, 'welcomed by the broker');
    this.emitSafe('welcome', frame);
  }

  private emitClientEvent(ev: ClientEvent): void {
    switch (ev.event) {
      case 'client.connected':
        return void this.emitSafe('client.connected', ev);
      case 'client.disconnected':
        return void this.emitSafe('client.disconnected', ev);
      case 'client.expired':
        return void this.emitSafe('client.expired', ev);
      case 'client.authenticated':
        return void this.emitSafe('client.authenticated', ev);
      case 'client.signed_out':
        return void this.emitSafe('client.signed_out', ev);
    }
  }

  // ---------------------------------------------------------------- outbound frames

  private nextId(): string {
    return `${this.idPrefix}${++this.frameCounter}`;
  }

  /** `data` is typed `unknown` here: the wire form is validated against AgentFrame below. */
  /** Per-frame debug lines (trace id, message id) only when debug is on. */
  private get debugLog(): boolean {
    return this.log.isLevelEnabled('debug');
  }

  private enqueue(frame: {
    type: AgentMessage['type'];
    id: string;
    data: unknown;
    to?: string | string[];
    except?: string[];
    _meta?: Record<string, unknown>;
  }): void {
    if (this.stateValue === 'stopped') throw new AgentSdkError('closed', 'the agent is closed; nothing is sent any more');
    let serialized: string;
    try {
      serialized = JSON.stringify(frame);
    } catch (err) {
      throw new AgentSdkError('invalid_frame', `data is not JSON-serialisable: ${(err as Error).message}`);
    }
    // Validate the object, not a re-parse of the text (that cost a JSON.parse of every frame sent):
    // the wire form differs only where JSON.stringify drops a value, which at the top level can
    // only be `data` (the fields the schema checks are strings and arrays of strings).
    const kind = typeof frame.data;
    const checked =
      kind === 'undefined' || kind === 'function' || kind === 'symbol'
        ? ({ ok: false, message: 'data is required (undefined, a function or a symbol are not JSON)' } as const)
        : validateFrame(frame as unknown as Record<string, unknown>, AgentFrame);
    if (!checked.ok) throw new AgentSdkError('invalid_frame', `invalid ${frame.type} frame: ${checked.message}`);
    const ws = this.ws;
    if (this.stateValue === 'ready' && ws && ws.readyState === WebSocket.OPEN) {
      // §8: held until the bridge answers accepted (bounded: outbox_full before anything is written).
      if (this.acksOn) this.outbox.push(frame.id, serialized);
      // Frames sent in one turn (replies to a burst, a broadcast loop) leave in one write.
      batchSend(ws);
      ws.send(serialized);
    } else this.outbox.push(frame.id, serialized);
  }

  // ---------------------------------------------------------------- emitting

  /**
   * A listener that throws must not break the connection (the emit runs inside ws's receive
   * path): log it, report it as an `error` event, go on.
   */
  private emitSafe<K extends keyof AgentEvents>(event: K, ...args: AgentEvents[K]): void {
    try {
      (this.emit as (e: K, ...a: AgentEvents[K]) => boolean)(event, ...args);
    } catch (err) {
      this.log.error({ err, event }, 'an agent event listener threw');
      if (event !== 'error') this.emitLocalError('listener_failed', `a "${String(event)}" listener threw: ${(err as Error)?.message ?? String(err)}`);
    }
  }

  /** Called by EventEmitter when an async listener's promise rejects. */
  override [EventEmitter.captureRejectionSymbol]<K>(err: Error, event: K | keyof AgentEvents, ..._args: unknown[]): void {
    this.log.error({ err, event }, 'an async agent event listener rejected');
    if (event !== 'error') this.emitLocalError('listener_failed', `a "${String(event)}" listener rejected: ${err?.message ?? String(err)}`);
  }

  private emitLocalError(code: AgentSdkErrorCode, message: string, detail?: string): void {
    const ev: AgentErrorEvent = detail ? { code, message: `${message} (${detail})` } : { code, message };
    this.emitError(ev);
  }

  /** Node would throw on an `error` event nobody listens to: log it instead. */
  private emitError(ev: AgentErrorEvent): void {
    if (this.listenerCount('error') === 0) {
      this.log.warn({ code: ev.code, ref: ev.ref, clientIds: ev.clientIds }, `agent error: ${ev.message}`);
      return;
    }
    this.emitSafe('error', ev);
  }
}

/** Dial the broker and keep the link up; see README.md for events and methods. */
export function connectAgent(options: ConnectAgentOptions): Agent {
  return new Agent(options);
}
