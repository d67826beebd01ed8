/**
 * One browser socket and its upstream to the broker (INTERNAL-HOP.md). Its one job is the pipe:
 * frames both ways unchanged, the upstream redialled with backoff while the browser socket stays
 * open, browser frames held (bounded) during an outage, close codes mapped, backpressure passed
 * through. All session state lives in the broker; this class only remembers what a redial needs
 * (the last seq forwarded and the epoch of the last welcome).
 */
import WebSocket from 'ws';
import {
  Backoff,
  BACKOFF_RESET_AFTER_MS,
  batchSend,
  ClientRateLimiter,
  bufferedAmountFor,
  closeReason,
  CloseCode,
  decodeJson,
  peekRef,
  FrameType,
  Header,
  shouldReconnect,
  type BackoffOptions,
  type Config,
  type ErrorCode,
  type Logger,
  type SystemEvent,
} from '@agent-bridge/common';
import type { IncomingMessage } from 'node:http';
import { closeCodeLabel, FRAME_TYPE_UNPARSED, type EventRing } from '@agent-bridge/common/metrics';
import type { WebMetrics } from '../http/metrics.ts';
import { traceBrowserFrame, traceIdIn, type TracedFrame } from './trace-frame.ts';
import { NOOP_TRACER, type HopSpan, type HopTracer } from '@agent-bridge/common/otel';
import { spanToBroker, spanToBrowser } from './pipe-spans.ts';
import { brokerTsMs } from './sent-at.ts';
import { pipeFrameMetrics, type PipeFrameMetrics } from './pipe-metrics.ts';
import type { ByteBudget } from '../limits/byte-budget.ts';
import { SocketLiveness } from '../ws/liveness.ts';
import { UnacceptedFrames, isAcceptedFrame } from './unaccepted.ts';
import { clientUpstreamUrl } from './broker-url.ts';
import type { BrokerPool } from './broker-pool.ts';
import type { RedialWake } from './redial-wake.ts';

export type PipeConfig = Pick<
  Config,
  | 'BROKER_URL'
  | 'PROXY_TOKEN'
  | 'HEARTBEAT_INTERVAL_MS'
  | 'HEARTBEAT_TIMEOUT_MS'
  | 'OUTAGE_BUFFER_FRAMES'
  | 'SOCKET_BUFFER_BYTES'
  | 'CLIENT_RATE_PER_SEC'
  | 'CLIENT_RATE_BURST'
  | 'PIPE_PAUSE_MAX_MS'
>;

export interface ClientPipeOptions {
  browser: WebSocket;
  clientId: string;
  /** From the session token's `addr`; sent to the broker as X-Client-Address. */
  address: string | null;
  /** The browser's own resume point (query of its /ws/:clientId request). */
  resume: { lastSeq?: number; epoch?: string };
  /** §8 extension: the browser asked for `accepted=inline`; every upstream asks the broker for it too. */
  acceptedInline?: boolean;
  /** The browser's address after TRUST_PROXY; sent as X-Client-Ip so the broker can count per IP. */
  clientIp: string;
  /** The process-wide OUTAGE_HOLD_BYTES budget every pipe's outage hold draws from. */
  outageBudget?: ByteBudget;
  config: PipeConfig;
  logger: Logger;
  metrics: WebMetrics;
  backoff?: BackoffOptions;
  backoffResetAfterMs?: number;
  /** TRACE=on: a browser frame without `_meta` gets one here, the first hop we own (§11). Default true. */
  trace?: boolean;
  /** METRICS=on: per-frame counters, bytes and e2e latency; off: none of that work per frame. Default true. */
  perFrameMetrics?: boolean;
  /** OpenTelemetry hop spans (pipe-spans.ts), only when export is on; default none. */
  tracer?: HopTracer;
  /** Recent errors sent and closes seen, for the ops view. */
  events?: { errors: EventRing; closes: EventRing };
  /**
   * The brokers this pipe may use (BROKER_URL lists several): the first dial goes to the best
   * ready broker of this client's ranking, a redial after a failure to the next one. Unset: only
   * `config.BROKER_URL`.
   */
  brokers?: BrokerPool;
  /** Upstreams waiting to redial, woken early once their broker is known to be back (redial-wake.ts). */
  redialWake?: RedialWake;
  /** An upstream's welcome arrived: that broker is reachable (readiness). */
  onBrokerSeen?: (brokerUrl: string) => void;
  /** Called once, when the browser socket has closed. */
  onClosed: (pipe: ClientPipe) => void;
  /**
   * Every upstream socket is kept here until it has fully closed, so a server shutdown can cut
   * one whose close handshake the broker never answers.
   */
  upstreams?: Set<WebSocket>;
}

/** Most of a refused upstream's HTTP body we read to find its error code. */
const REFUSAL_BODY_MAX = 4096;

/** ws.send options of every forwarded frame (ws copies them; one object for all). */
const TEXT = { binary: false } as const;

const SEQ_PREFIX = /^\{"type":"[a-z.]{1,20}","seq":(\d{1,15})[,}]/;

export class ClientPipe {
  readonly clientId: string;
  /**
   * The wallet address every (re)dial announces. It starts as the token's and follows live
   * sign-in / sign-out, so a redial never brings back an identity the user has left.
   */
  private address: string | null;
  private readonly browser: WebSocket;
  private readonly cfg: PipeConfig;
  private readonly log: Logger;
  private readonly backoff: Backoff;
  private readonly browserHeartbeat: SocketLiveness;

  private upstream: WebSocket | undefined;
  /** The broker of the current (or last) upstream. */
  private brokerUrl: string | undefined;
  /** The broker whose upstream just failed: the next dial goes to the next one in the ranking. */
  private failedBroker: string | undefined;
  private upstreamOpen = false;
  private upstreamHeartbeat: SocketLiveness | undefined;
  /** The current upstream's welcome has arrived: frames may flow to it. */
  private ready = false;
  /** The browser has had its one `welcome`; later welcomes become `bridge.reconnected`. */
  private welcomed = false;
  private lastSeq: number | undefined;
  private epoch: string | undefined;
  private readonly held: Buffer[] = [];
  /** §8: frames handed to the current upstream and not yet answered (resent first after a failover). */
  private readonly unaccepted: UnacceptedFrames;
  private heldBytes = 0;
  /** Reading the upstream is paused: the browser is slow. */
  private paused = false;
  /** Reading the browser is paused: the upstream (broker) is slow. */
  private browserPaused = false;
  /** Bounds how long either pause may last (PIPE_PAUSE_MAX_MS). */
  private pauseTimer: NodeJS.Timeout | undefined;
  /** Edge frame limit (CLIENT_RATE_PER_SEC / CLIENT_RATE_BURST), before the broker's own. */
  private readonly frames: ClientRateLimiter;
  private readonly m: WebMetrics;
  private readonly trace: boolean;
  /** METRICS=on: the per-frame handles, bound once per web server (pipe-metrics.ts); off: none. */
  private readonly perFrame: PipeFrameMetrics | undefined;
  private readonly tracer: HopTracer;
  /** Per-frame debug lines (trace id, message id) only when someone reads them. */
  private readonly debug: boolean;
  /**
   * Start the trace of a browser frame without `_meta` here (§11) only when this process records
   * it — a debug line or an exported span; otherwise the broker, the first hop that records it,
   * starts it, and the one id still follows the message everywhere it is recorded (issue 15
   * item 7: splicing and a random id per frame for nobody cost the web server 25 %).
   */
  private readonly traceHere: boolean;
  private retryTimer: NodeJS.Timeout | undefined;
  /** When the pending redial is due, and when the current upstream's dial started (`performance.now()`). */
  private retryAt = 0;
  private dialedAt = 0;
  /** A redial was brought forward since the last welcome: the rest of this outage keeps the plain schedule. */
  private woken = false;
  private resetTimer: NodeJS.Timeout | undefined;
  /** No more upstream work: the browser is gone or being closed. */
  private ended = false;

  constructor(private readonly opts: ClientPipeOptions) {
    this.clientId = opts.clientId;
    this.address = opts.address;
    this.browser = opts.browser;
    this.cfg = opts.config;
    this.log = opts.logger.child({ module: 'pipe', clientId: opts.clientId });
    this.backoff = new Backoff(opts.backoff);
    this.lastSeq = opts.resume.lastSeq;
    this.epoch = opts.resume.epoch;
    this.frames = new ClientRateLimiter(this.cfg.CLIENT_RATE_PER_SEC, this.cfg.CLIENT_RATE_BURST);
    this.unaccepted = new UnacceptedFrames(this.cfg.OUTAGE_BUFFER_FRAMES);
    this.m = opts.metrics;
    this.trace = opts.trace !== false;
    this.perFrame = opts.perFrameMetrics !== false ? pipeFrameMetrics(opts.metrics) : undefined;
    this.tracer = opts.tracer ?? NOOP_TRACER;
    this.debug = this.log.isLevelEnabled('debug');
    this.traceHere = this.trace && this.debug;
    this.m.connectionsOpened.inc({ kind: 'client' });
    this.m.connections.inc({ kind: 'client' });

    this.browser.on('message', (data, isBinary) => this.fromBrowser(data as Buffer, isBinary));
    this.browser.on('error', (err) => this.log.debug({ err: err.message }, 'browser socket error'));
    this.browser.once('close', (code) => {
      this.log.debug({ code }, 'browser socket closed');
      this.m.connections.dec({ kind: 'client' });
      this.noteClose('client', code);
      this.end(code);
      opts.onClosed(this);
    });
    this.browserHeartbeat = new SocketLiveness(this.browser, {
      mode: 'ping-peer',
      intervalMs: this.cfg.HEARTBEAT_INTERVAL_MS,
      timeoutMs: this.cfg.HEARTBEAT_TIMEOUT_MS,
      onDead: () => {
        this.log.info('browser silent for too long; terminating');
        this.browser.terminate();
      },
      onRtt: (s) => this.m.heartbeatRtt.observe({ kind: 'client' }, s),
    });
    this.dial();
  }

  /** Server shutdown: both sides get 1001 so the browser redials and the session is kept. */
  shutdown(): void {
    this.end(CloseCode.goingAway);
    if (this.browser.readyState === WebSocket.OPEN) this.browser.close(CloseCode.goingAway, 'server shutting down');
  }

  /** The broker this pipe is on (or last dialled). */
  get broker(): string | undefined {
    return this.brokerUrl;
  }

  /** The browser has a live upstream (its welcome arrived): the broker enforces one socket per clientId. */
  get upstreamReady(): boolean {
    return this.ready;
  }

  /**
   * A newer browser socket took over this clientId while this one had no live upstream (an
   * outage): the broker cannot replace it, so the web server does, with the broker's 4500.
   */
  replace(): void {
    if (this.browser.readyState !== WebSocket.OPEN) return;
    this.log.info('replaced by a newer connection during an outage');
    this.end(CloseCode.replaced);
    this.browser.close(CloseCode.replaced, 'replaced by a newer connection');
  }

  /** Last resort when a browser does not finish its close handshake in time. */
  terminate(): void {
    this.end(CloseCode.goingAway);
    this.browser.terminate();
  }

  // ---------- browser → broker ----------

  private fromBrowser(data: Buffer, isBinary: boolean): void {
    if (this.ended) return;
    this.perFrame?.fromClient(data.length);
    if (isBinary) {
      this.sendError('invalid_json', 'binary frames are not accepted; send JSON as text');
      return;
    }
    // The edge limit: a flood is answered here and never costs the broker (or a bystander
    // sharing it) anything. Persistent abuse closes the socket like the broker would.
    const verdict = this.frames.check();
    if (verdict === 'abuse') {
      this.log.info('browser kept flooding past its rate limit; closing 1008');
      this.end(CloseCode.policy);
      this.browser.close(CloseCode.policy, 'rate limit exceeded repeatedly');
      return;
    }
    if (verdict === 'limited') {
      this.sendError('rate_limited', 'too many frames; slow down', peekRef(data.toString()));
      return;
    }
    const up = this.upstream;
    if (this.ready && up && up.readyState === WebSocket.OPEN) {
      this.toUpstream(up, data);
      return;
    }
    if (this.held.length >= this.cfg.OUTAGE_BUFFER_FRAMES) {
      this.sendError('agent_unavailable', 'the bridge is reconnecting and cannot hold more frames; retry later', peekRef(data.toString()));
      return;
    }
    if (this.opts.outageBudget && !this.opts.outageBudget.take(data.length)) {
      this.m.capacityRefusals.inc({ budget: 'outage_hold' });
      this.sendError('over_capacity', 'the bridge is reconnecting and holds too much for all clients; retry later', peekRef(data.toString()));
      return;
    }
    this.held.push(data);
    this.heldBytes += data.length;
  }

  /**
   * Browser → broker with backpressure: while the upstream buffers more than SOCKET_BUFFER_BYTES
   * the browser is not read (its frames wait in its own socket and kernel buffers, not in our
   * memory); the send callback resumes it once the upstream has drained.
   */
  private toUpstream(up: WebSocket, raw: Buffer): void {
    // §11: the trace starts at the first hop we own when the browser sent none (here, not when
    // the frame arrived: a frame held through an outage is held at its own size).
    let data = raw;
    let span: HopSpan | undefined;
    if (this.tracer.enabled || this.traceHere) {
      const traced: TracedFrame & { span?: HopSpan } = this.tracer.enabled ? spanToBroker(this.tracer, raw, this.trace) : traceBrowserFrame(raw);
      span = traced.span;
      data = traced.data;
      if (this.debug) this.log.debug({ traceId: traced.traceId, msgId: peekRef(raw.toString()), started: traced.started }, 'browser frame to the broker');
    }
    batchSend(up);
    up.send(data, { binary: false }, () => this.maybeResumeBrowser(up));
    this.unaccepted.sent(raw);
    span?.end();
    this.perFrame?.toUpstream(data.length);
    if (!this.browserPaused && bufferedAmountFor(up, this.cfg.SOCKET_BUFFER_BYTES) > this.cfg.SOCKET_BUFFER_BYTES) {
      this.browserPaused = true;
      this.browser.pause();
      // Its pongs now sit unread too; PIPE_PAUSE_MAX_MS bounds the pause instead.
      this.browserHeartbeat.suspend();
      this.armPauseLimit();
    }
  }

  private maybeResumeBrowser(up: WebSocket): void {
    if (!this.browserPaused || this.ended) return;
    if (up === this.upstream && bufferedAmountFor(up, this.cfg.SOCKET_BUFFER_BYTES) > this.cfg.SOCKET_BUFFER_BYTES) return;
    this.resumeBrowser();
  }

  private resumeBrowser(): void {
    if (!this.browserPaused) return;
    this.browserPaused = false;
    this.browser.resume();
    this.browserHeartbeat.resume();
    this.disarmPauseLimit();
  }

  /** Either direction paused: the pipe may stay so for PIPE_PAUSE_MAX_MS, then the browser gets 1013. */
  private armPauseLimit(): void {
    if (this.pauseTimer) return;
    this.pauseTimer = setTimeout(() => {
      this.pauseTimer = undefined;
      if (this.ended || (!this.paused && !this.browserPaused)) return;
      this.log.info({ upstreamPaused: this.paused, browserPaused: this.browserPaused }, 'pipe paused for too long; closing 1013');
      this.m.pipePauseCloses.inc();
      this.end(CloseCode.slowConsumer);
      if (this.browser.readyState === WebSocket.OPEN) this.browser.close(CloseCode.slowConsumer, 'paused for too long (slow consumer)');
      else this.browser.terminate();
    }, this.cfg.PIPE_PAUSE_MAX_MS);
  }

  private disarmPauseLimit(): void {
    if (this.paused || this.browserPaused) return;
    clearTimeout(this.pauseTimer);
    this.pauseTimer = undefined;
  }

  /** The broker was told of a sign-in or sign-out for this clientId: redials must say the same. */
  setAddress(address: string | null): void {
    this.address = address;
  }

  // ---------- upstream lifecycle ----------

  private dial(): void {
    if (this.ended) return;
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.cfg.PROXY_TOKEN}`,
      [Header.clientIp]: this.opts.clientIp,
    };
    if (this.address) headers[Header.clientAddress] = this.address;
    const pool = this.opts.brokers;
    const brokerUrl = pool ? pool.pick(this.clientId, this.failedBroker) : this.cfg.BROKER_URL;
    if (this.brokerUrl !== undefined && brokerUrl !== this.brokerUrl) this.log.info({ broker: urlHostOf(brokerUrl) }, 'continuing on another broker');
    this.brokerUrl = brokerUrl;
    const url = clientUpstreamUrl(brokerUrl, this.clientId, { lastSeq: this.lastSeq, epoch: this.epoch }, this.opts.acceptedInline === true);
    let up: WebSocket;
    try {
      up = new WebSocket(url, { headers, perMessageDeflate: false, handshakeTimeout: this.cfg.HEARTBEAT_TIMEOUT_MS });
    } catch (err) {
      // A header value Node refuses must end this pipe, never the process (redials run on timers).
      this.log.error({ err: (err as Error).message }, 'cannot dial the broker');
      this.end(CloseCode.internal);
      if (this.browser.readyState === WebSocket.OPEN) this.browser.close(CloseCode.internal, 'internal error');
      return;
    }
    this.upstream = up;
    this.dialedAt = performance.now();
    this.ready = false;
    this.opts.upstreams?.add(up);
    up.once('close', () => this.opts.upstreams?.delete(up));
    up.on('open', () => this.onUpstreamOpen(up));
    up.on('message', (data) => this.fromUpstream(up, data as Buffer));
    up.on('error', (err) => this.log.warn({ err: err.message }, 'upstream error'));
    up.on('unexpected-response', (_req, res) => this.onUpstreamRefused(up, res));
    up.on('close', (code, reason) => this.onUpstreamClose(up, code, reason.toString()));
  }

  private onUpstreamOpen(up: WebSocket): void {
    if (up !== this.upstream) return;
    this.upstreamOpen = true;
    this.m.connections.inc({ kind: 'upstream' });
    this.m.connectionsOpened.inc({ kind: 'upstream' });
    // A broker that goes silent (frozen, half-open TCP) is a dead upstream. The broker pings
    // every upstream (it accepts, PROTOCOL §4), so watching for its silence is enough.
    this.upstreamHeartbeat = new SocketLiveness(up, {
      mode: 'watch-silence',
      intervalMs: this.cfg.HEARTBEAT_INTERVAL_MS,
      timeoutMs: this.cfg.HEARTBEAT_TIMEOUT_MS,
      onDead: () => {
        this.log.warn('broker silent for too long; dropping the upstream');
        up.terminate();
      },
    });
  }

  /**
   * The broker answered the upgrade with HTTP instead of 101. `503 over_capacity` is its session
   * budget: redialling for ever would only add load, so the browser is closed 1013 (it may come
   * back later and resume). Anything else (401, 404, other 5xx) counts as unreachable: redial.
   */
  private onUpstreamRefused(up: WebSocket, res: IncomingMessage): void {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (c: Buffer) => {
      if (size < REFUSAL_BODY_MAX) chunks.push(c);
      size += c.length;
    });
    const done = () => {
      if (up !== this.upstream) return;
      const body = Buffer.concat(chunks).subarray(0, REFUSAL_BODY_MAX).toString();
      const decoded = decodeJson(body);
      const code = decoded.ok ? (decoded.value.error as { code?: unknown } | undefined)?.code : undefined;
      this.log.warn({ status: res.statusCode, code }, 'upstream refused');
      if (res.statusCode === 503 && code === 'over_capacity') {
        this.m.capacityRefusals.inc({ budget: 'upstream' });
        this.end(CloseCode.slowConsumer);
        if (this.browser.readyState === WebSocket.OPEN) this.browser.close(CloseCode.slowConsumer, 'over capacity: the bridge is full; retry later');
      }
      up.terminate();
    };
    res.once('end', done);
    res.once('error', done);
  }

  private onUpstreamClose(up: WebSocket, code: number, reason: string): void {
    if (up !== this.upstream) return;
    if (this.upstreamOpen) this.noteClose('upstream', code);
    this.releaseUpstream();
    if (this.ended) return;
    // The broker's verdict on this client (policy, too big, slow consumer, replaced, normal end)
    // is the browser's too. 1013 is passed on although it means "reconnect": the browser must
    // redial itself so that its own lastSeq drives the resume.
    if (code === CloseCode.slowConsumer || !shouldReconnect(code)) {
      this.log.info({ code }, 'broker closed the client; passing the close on');
      this.end(code);
      if (this.browser.readyState === WebSocket.OPEN) this.browser.close(code, closeReason(reason));
      return;
    }
    this.log.info({ code }, 'upstream lost; redialling');
    // Fail over: this broker is suspect for new clients, and this one tries the next broker of
    // its ranking (the same one again when it is the only one).
    if (this.brokerUrl !== undefined) {
      this.failedBroker = this.brokerUrl;
      this.opts.brokers?.markDown(this.brokerUrl);
    }
    this.scheduleRedial();
  }

  private scheduleRedial(): void {
    const retryInMs = this.backoff.next();
    this.m.upstreamRedials.inc();
    this.sendSystem('bridge.reconnecting', { retryInMs });
    this.retryAt = performance.now() + retryInMs;
    this.armRedial(retryInMs);
    // Proof that this broker is back (another upstream's welcome, a /readyz 200) may come first.
    if (this.brokerUrl !== undefined && !this.woken) this.opts.redialWake?.wait(this.brokerUrl, this, { since: performance.now(), wake: (ms) => this.wakeRedial(ms) });
  }

  private armRedial(ms: number): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.opts.redialWake?.done(this.brokerUrl, this);
      this.dial();
    }, ms);
  }

  /** The broker is back: redial within `ms` unless this upstream's own step comes sooner. */
  private wakeRedial(ms: number): void {
    if (this.ended || !this.retryTimer || this.retryAt - performance.now() <= ms) return;
    // Once per outage: a broker that answers /readyz but refuses the upgrade (a wrong PROXY_TOKEN)
    // must not be redialled every second instead of on the schedule.
    this.woken = true;
    this.armRedial(ms);
  }

  private releaseUpstream(): void {
    if (this.upstreamOpen) this.m.connections.dec({ kind: 'upstream' });
    this.upstreamOpen = false;
    this.upstreamHeartbeat?.stop();
    this.upstreamHeartbeat = undefined;
    clearTimeout(this.resetTimer);
    this.resetTimer = undefined;
    this.upstream = undefined;
    this.ready = false;
    this.paused = false;
    // What the lost upstream never answered goes first to the next one (the broker recognises a
    // frame it had stored: §8), ahead of what the browser sends meanwhile.
    const again = this.unaccepted.takeAll();
    if (again.length) {
      this.held.unshift(...again);
      for (const f of again) this.heldBytes += f.length;
      this.opts.outageBudget?.force(again.reduce((n, f) => n + f.length, 0));
    }
    // Frames read from the browser now go to the outage hold, bounded by count and budget.
    this.resumeBrowser();
    this.disarmPauseLimit();
  }

  // ---------- broker → browser ----------

  private fromUpstream(up: WebSocket, data: Buffer): void {
    if (up !== this.upstream || this.ended) return;
    this.perFrame?.fromUpstream(data.length);
    if (!this.ready) {
      const decoded = decodeJson(data.toString());
      if (decoded.ok && decoded.value.type === FrameType.welcome) {
        this.onWelcome(decoded.value, data);
        return;
      }
    }
    // §8 `accepted` (one per browser message): no seq, no ts, no trace; only the pipe's bookkeeping.
    const accepted = isAcceptedFrame(data);
    // With accepted=inline they ride on other frames, as the last member (unaccepted.ts).
    let end = data.length;
    if (accepted) this.unaccepted.settled(data);
    else {
      this.trackSeq(data);
      if (this.opts.acceptedInline === true) end = this.unaccepted.carried(data);
      this.unaccepted.answered(data);
    }
    if (this.debug && this.trace && !accepted) {
      const traceId = traceIdIn(data);
      if (traceId) this.log.debug({ traceId, msgId: peekRef(data.toString()) }, 'broker frame to the browser');
    }
    const span = this.tracer.enabled ? spanToBrowser(this.tracer, data) : undefined;
    this.forwardToBrowser(data);
    span?.end();
    if (this.perFrame && !accepted) this.observeE2e(this.perFrame, data, end);
  }

  /**
   * to_client: the broker's `ts` of a message to our write to the browser (both clocks ours).
   * `end`: where the frame's own members end (before carried `accepted`s).
   */
  private observeE2e(metrics: PipeFrameMetrics, data: Buffer, end: number): void {
    const sent = brokerTsMs(data, end);
    if (sent !== undefined) metrics.e2eToClient(sent);
  }

  private onWelcome(welcome: Record<string, unknown>, raw: Buffer): void {
    const resumed = welcome.resumed === true;
    const lastSeq = typeof welcome.lastSeq === 'number' ? welcome.lastSeq : 0;
    if (typeof welcome.epoch === 'string') this.epoch = welcome.epoch;
    // Not resumed: a new seq space (or a fresh session) continues after the welcome's lastSeq.
    // Resumed: the replay follows and moves lastSeq on as it is forwarded.
    if (!resumed || this.lastSeq === undefined) this.lastSeq = lastSeq;
    if (!this.welcomed) {
      this.welcomed = true;
      this.forwardToBrowser(raw);
    } else {
      this.sendSystem('bridge.reconnected', { epoch: this.epoch, resumed, lastSeq });
    }
    this.ready = true;
    this.woken = false;
    this.failedBroker = undefined;
    if (this.brokerUrl !== undefined) {
      this.opts.brokers?.markUp(this.brokerUrl);
      this.opts.onBrokerSeen?.(this.brokerUrl);
      this.opts.redialWake?.back(this.brokerUrl, this.dialedAt);
    }
    this.resetTimer = setTimeout(() => this.backoff.reset(), this.opts.backoffResetAfterMs ?? BACKOFF_RESET_AFTER_MS);
    const up = this.upstream!;
    this.opts.outageBudget?.give(this.heldBytes);
    this.heldBytes = 0;
    for (const frame of this.held.splice(0)) this.toUpstream(up, frame);
  }

  private trackSeq(data: Buffer): void {
    if (!data.includes('"seq"')) return;
    // The broker writes `{"type":"…","seq":N,` first: read that without parsing a large frame.
    // The anchored prefix guarantees it is the top-level seq, not one inside `data`.
    const fast = SEQ_PREFIX.exec(data.subarray(0, 64).toString('latin1'));
    if (fast) {
      this.lastSeq = Number(fast[1]);
      return;
    }
    const decoded = decodeJson(data.toString());
    if (decoded.ok && typeof decoded.value.seq === 'number') this.lastSeq = decoded.value.seq;
  }

  private forwardToBrowser(data: Buffer): void {
    if (this.browser.readyState !== WebSocket.OPEN) return;
    // One write per socket per turn (socket-batcher.ts); bufferedAmountFor does not count
    // frames that are merely corked for this turn as a slow browser.
    batchSend(this.browser);
    this.browser.send(data, TEXT, this.onBrowserWritten);
    this.perFrame?.toClient(data.length);
    // A slow browser: stop reading its upstream so the broker's mailbox applies §7.
    if (!this.paused && this.upstream && bufferedAmountFor(this.browser, this.cfg.SOCKET_BUFFER_BYTES) > this.cfg.SOCKET_BUFFER_BYTES) {
      this.paused = true;
      this.upstream.pause();
      this.upstreamHeartbeat?.suspend();
      this.armPauseLimit();
    }
  }

  /** ws.send's callback for every frame to the browser: one function per pipe, not one per frame. */
  private readonly onBrowserWritten = (): void => this.maybeResume();

  private maybeResume(): void {
    if (!this.paused || bufferedAmountFor(this.browser, this.cfg.SOCKET_BUFFER_BYTES) > this.cfg.SOCKET_BUFFER_BYTES) return;
    this.paused = false;
    this.upstream?.resume();
    this.upstreamHeartbeat?.resume();
    this.disarmPauseLimit();
  }

  private sendSystem(event: SystemEvent, fields: Record<string, unknown>): void {
    this.sendOwn({ type: FrameType.system, event, ...fields, ts: new Date().toISOString() });
  }

  private sendError(code: ErrorCode, message: string, ref?: string): void {
    this.m.errors.inc({ code });
    this.opts.events?.errors.push({ ts: new Date().toISOString(), code, kind: 'client', detail: message.slice(0, 200) });
    this.sendOwn(ref === undefined ? { type: FrameType.error, code, message } : { type: FrameType.error, code, message, ref });
  }

  private sendOwn(frame: Record<string, unknown>): void {
    if (this.browser.readyState !== WebSocket.OPEN) return;
    batchSend(this.browser);
    const text = JSON.stringify(frame);
    this.browser.send(text);
    this.m.framesOut.inc({ kind: 'client', type: FRAME_TYPE_UNPARSED });
    this.m.bytesOut.inc({ kind: 'client' }, Buffer.byteLength(text));
  }

  private noteClose(kind: 'client' | 'upstream', code: number): void {
    const label = closeCodeLabel(code);
    this.m.closes.inc({ kind, code: label });
    this.opts.events?.closes.push({ ts: new Date().toISOString(), code: label, kind });
  }

  // ---------- teardown ----------

  /** Idempotent: stop every timer and let the upstream go (1000 ends the session, else 1001). */
  private end(browserCode: number): void {
    if (this.ended) return;
    this.ended = true;
    this.browserHeartbeat.stop();
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.opts.redialWake?.done(this.brokerUrl, this);
    clearTimeout(this.pauseTimer);
    this.pauseTimer = undefined;
    this.held.length = 0;
    this.opts.outageBudget?.give(this.heldBytes);
    this.heldBytes = 0;
    const up = this.upstream;
    this.releaseUpstream();
    if (!up) return;
    if (up.readyState === WebSocket.OPEN) {
      up.resume();
      up.close(browserCode === CloseCode.normal ? CloseCode.normal : CloseCode.goingAway, browserCode === CloseCode.normal ? 'client closed' : 'client gone');
    } else if (up.readyState === WebSocket.CONNECTING) {
      up.terminate();
    }
  }
}

/** host:port of a broker URL for logs (never its path, query or credentials). */
function urlHostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '?';
  }
}
