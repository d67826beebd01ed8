/**
 * The browser side of the wire contract (PROTOCOL §2–§5): register, connect, resume, redial.
 * One class with one job: keep a session's socket alive and turn frames into events. It knows
 * nothing about React or about how the conversation is shown.
 */
import { parseInboundFrame } from './parse-frame.ts';
import {
  ACCEPTED_INLINE,
  ACCEPTED_QUERY,
  Backoff,
  BACKOFF_RESET_AFTER_MS,
  CloseCode,
  DEFAULT_AGENT,
  FrameType,
  shouldReconnect,
  type BackoffOptions,
  type SystemEvent,
} from '@agent-bridge/common/protocol';
import { Emitter } from './emitter.ts';
import { checkToken, checkUpgrade, register, HttpError } from './http.ts';
import { hintFor, isPermanentRefusal } from './refusal.ts';
import { SessionStore, type StoredSession } from './session-store.ts';
import type {
  BridgeClientEvents,
  BridgeStatus,
  ClientWelcomeFrame,
  StorageLike,
  SystemFrame,
  UpgradeRefusal,
  WebSocketConstructor,
  WebSocketLike,
} from './types.ts';

export interface BridgeClientOptions {
  /** Origin of the web server; default `location.origin`. */
  baseUrl?: string;
  /** Where the session survives reloads; default `sessionStorage`; `null` keeps it in memory only. */
  storage?: StorageLike | null;
  storageKey?: string;
  /**
   * Default the global `WebSocket`. In Node 20 pass `WebSocket` from `ws`. Any constructor whose
   * instances behave like the DOM WebSocket (onopen/onmessage/onclose/onerror, send, close) fits;
   * its handler types differ between implementations, so they are not checked here.
   */
  WebSocketImpl?: WebSocketConstructor | (new (url: string) => unknown);
  fetch?: typeof fetch;
  /** Send an `ack` after this many frames with `seq` (default 50). */
  ackEvery?: number;
  backoff?: BackoffOptions;
  /** Silence after which the socket is considered dead; default `welcome.heartbeatMs × 6`. */
  heartbeatTimeoutMs?: number;
  /**
   * Messages the bridge has not taken yet, sent (again) in order on reconnect (default 100):
   * those sent while disconnected and, with `acks`, those not yet answered `accepted`.
   */
  outboxLimit?: number;
  /**
   * PROTOCOL §8, on by default: every message (and cancel) is kept — in the session's storage
   * too, so a reload or crash does not lose it — until the bridge answers `accepted` (or refuses
   * it with an error naming it), and sent again after a reconnect; the bridge de-duplicates by id.
   * `false`: v1 behaviour (a message written to the socket counts as sent).
   */
  acks?: boolean;
  /** Connect at once (default true); otherwise call `connect()`. */
  autoConnect?: boolean;
}

export interface SendOptions {
  agent?: string;
}

/** The socket was dead without a close frame (what browsers report for a refused upgrade). */
const ABNORMAL_CLOSE = 1006;
/** Our own closes that keep the session (4000–4499 means "reconnect"; not 1000). */
const HEARTBEAT_CLOSE = 4000;
const OPEN = 1;

export class BridgeClient {
  readonly baseUrl: string;
  private readonly events = new Emitter<BridgeClientEvents>();
  private readonly store: SessionStore;
  private readonly WebSocketImpl: WebSocketConstructor;
  private readonly fetchImpl: typeof fetch;
  private readonly backoff: Backoff;
  private readonly ackEvery: number;
  private readonly outboxLimit: number;
  private readonly heartbeatOverride: number | undefined;

  private stored: StoredSession | undefined;
  private ws: WebSocketLike | undefined;
  private statusValue: BridgeStatus = { state: 'connecting' };
  private agentsValue: string[] = [];
  /** Frames the bridge has not taken (unsent, or with acks unaccepted): id → text, in send order. */
  private outbox = new Map<string, string>();
  private readonly acks: boolean;
  /** §8 on the current link: acks wanted and the welcome said the bridge honours them. */
  private acksOn = false;
  private live = false; // welcome received on the current socket
  private stopped = true;
  private dialing = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private watchdog: ReturnType<typeof setTimeout> | undefined;
  private silenceMs = 30_000;
  private openedAt = 0;
  private unackedFrames = 0;
  private memoryNextId = 1;
  private pingsVisible = false;
  /** No socket has opened since we registered: a 401 now is not an old token expiring. */
  private freshRegistration = false;

  constructor(opts: BridgeClientOptions = {}) {
    const g = globalThis as { location?: { origin: string }; sessionStorage?: StorageLike; WebSocket?: unknown };
    this.baseUrl = opts.baseUrl ?? g.location?.origin ?? 'http://127.0.0.1:8081';
    this.store = new SessionStore(opts.storage === undefined ? safeSessionStorage() : (opts.storage ?? undefined), opts.storageKey);
    const WS = (opts.WebSocketImpl ?? g.WebSocket) as WebSocketConstructor | undefined;
    if (!WS) throw new Error('no WebSocket implementation: pass WebSocketImpl');
    this.WebSocketImpl = WS;
    this.fetchImpl = opts.fetch ?? ((...args) => fetch(...args));
    this.backoff = new Backoff(opts.backoff);
    this.ackEvery = opts.ackEvery ?? 50;
    this.outboxLimit = opts.outboxLimit ?? 100;
    this.acks = opts.acks !== false;
    this.heartbeatOverride = opts.heartbeatTimeoutMs;
    this.stored = this.store.load();
    // Messages a previous page of this tab sent but never saw accepted (§8): they go out again.
    if (this.acks) for (const [id, text] of this.stored?.unaccepted ?? []) this.outbox.set(id, text);
    if (opts.autoConnect !== false) this.connect();
  }

  // ---------- public API ----------

  on<K extends keyof BridgeClientEvents>(event: K, fn: (payload: BridgeClientEvents[K]) => void): () => void {
    return this.events.on(event, fn);
  }

  get status(): BridgeStatus {
    return this.statusValue;
  }

  get agents(): readonly string[] {
    return this.agentsValue;
  }

  /** The stored session (clientId, token, lastSeq, epoch), or undefined before registration. */
  get session(): Readonly<StoredSession> | undefined {
    return this.stored ? { ...this.stored } : undefined;
  }

  /** Start (or restart after `close()`). */
  connect(): void {
    if (!this.stopped) return;
    this.stopped = false;
    windowEvents()?.addEventListener('online', this.onOnline);
    void this.dial();
  }

  /**
   * Send `data` to an agent (default `default`); returns the frame id (`c-<n>`). While the
   * socket is down the frame waits in a bounded outbox and goes out, in order, after the welcome.
   */
  send(data: unknown, opts: SendOptions = {}): string {
    const id = `c-${this.takeId()}`;
    const frame: Record<string, unknown> = { type: FrameType.message, id, data };
    if (opts.agent && opts.agent !== DEFAULT_AGENT) frame.agent = opts.agent;
    const text = JSON.stringify(frame);
    this.events.emit('sent', { id, data, ...(opts.agent ? { agent: opts.agent } : {}) });
    this.enqueue(id, text);
    return id;
  }

  /** Messages (and cancels) the bridge has not taken yet. */
  get pending(): number {
    return this.outbox.size;
  }

  /**
   * Write now if the link is up; keep it until accepted (acks) or until the next welcome
   * (without), bounded by outboxLimit (beyond: an `outbox_full` error naming it, not sent).
   */
  private enqueue(id: string, text: string): void {
    const up = this.live && this.ws?.readyState === OPEN;
    if (!up || this.acksOn) {
      if (this.outbox.size >= this.outboxLimit) {
        this.events.emit('error', { code: 'outbox_full', message: 'too many messages waiting for the bridge', ref: id });
        return;
      }
      this.outbox.set(id, text);
      this.persistOutbox();
    }
    if (up) this.ws!.send(text);
  }

  /** The bridge took the frame (`accepted`) or refused it (an error naming it): forget it. */
  private settle(ref: string): void {
    if (this.outbox.delete(ref)) this.persistOutbox();
  }

  private persistOutbox(): void {
    if (!this.stored || !this.acks) return;
    this.stored.unaccepted = [...this.outbox];
    this.store.save(this.stored);
  }

  /**
   * Send a frame of another type (a run's `cancel`, §9) by send()'s path: it gets an `id`
   * (`c-<n>`, returned; errors name it as `ref`) and waits in the outbox while the socket is down.
   */
  sendFrame(frame: { type: string } & Record<string, unknown>): string {
    const id = `c-${this.takeId()}`;
    this.enqueue(id, JSON.stringify({ ...frame, id }));
    return id;
  }

  /**
   * Swap in a new session token (after Sign-In With Ethereum upgraded the session). With a
   * different clientId it is a new session: the resume cursor starts again and we redial.
   */
  setToken(token: string, opts: { expiresAt?: string; clientId?: string } = {}): void {
    const newClient = opts.clientId !== undefined && opts.clientId !== this.stored?.clientId;
    if (!this.stored || newClient) {
      this.stored = {
        clientId: opts.clientId ?? this.stored?.clientId ?? '',
        token,
        expiresAt: opts.expiresAt ?? '',
        lastSeq: 0,
        nextId: this.stored?.nextId ?? this.memoryNextId,
      };
      this.store.save(this.stored);
      if (newClient && !this.stopped) this.redialNow();
      return;
    }
    this.stored.token = token;
    if (opts.expiresAt) this.stored.expiresAt = opts.expiresAt;
    this.store.save(this.stored);
  }

  /** End the session (close 1000: the bridge drops it) and stop redialling. */
  close(): void {
    this.stopped = true;
    this.clearTimers();
    const ws = this.ws;
    this.detach();
    ws?.close(CloseCode.normal, 'client closed');
    this.setStatus({ state: 'offline', reason: 'closed by the client' });
  }

  /**
   * Drop the socket but keep the session (the bridge holds it for SESSION_TTL_MS), as a page
   * reload does; `connect()` (or a new client on the same storage) resumes it.
   */
  suspend(): void {
    this.stopped = true;
    this.clearTimers();
    const ws = this.ws;
    this.detach();
    ws?.close(HEARTBEAT_CLOSE, 'suspended');
    this.setStatus({ state: 'offline', reason: 'suspended' });
  }

  // ---------- dialing ----------

  private async dial(): Promise<void> {
    if (this.stopped || this.dialing) return;
    this.dialing = true;
    try {
      if (this.statusValue.state !== 'reconnecting') this.setStatus({ state: 'connecting' });
      if (!this.stored) {
        try {
          const reg = await register(this.baseUrl, this.fetchImpl);
          this.stored = { ...reg, lastSeq: 0, nextId: this.memoryNextId };
          this.store.save(this.stored);
          this.freshRegistration = true;
        } catch (err) {
          const message = err instanceof HttpError ? `${err.code}: ${err.message}` : String(err);
          this.events.emit('error', { code: 'register_failed', message });
          // 403: this page's Origin may not use the bridge at all; 400/404: not a bridge here.
          if (err instanceof HttpError && isPermanentRefusal(err.status)) this.stopRefused(err.status, err.code, err.message);
          else this.scheduleRetry();
          return;
        }
      }
      if (this.stopped) return;
      this.open(this.stored);
    } finally {
      this.dialing = false;
    }
  }

  private open(s: StoredSession): void {
    const u = new URL(`/ws/${encodeURIComponent(s.clientId)}`, this.baseUrl.replace(/^http/, 'ws'));
    u.searchParams.set('token', s.token);
    // §8: our extension — the bridge's `accepted`s ride on its next frame instead of one frame each.
    if (this.acks) u.searchParams.set(ACCEPTED_QUERY, ACCEPTED_INLINE);
    if (s.epoch !== undefined) {
      u.searchParams.set('lastSeq', String(s.lastSeq));
      u.searchParams.set('epoch', s.epoch);
    }
    let ws: WebSocketLike;
    try {
      ws = new this.WebSocketImpl(u.toString());
    } catch (err) {
      this.events.emit('error', { code: 'closed', message: `cannot open WebSocket: ${String(err)}` });
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    this.live = false;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      this.freshRegistration = false;
      this.openedAt = Date.now();
      // Browsers answer the bridge's pings without telling page code; Node's `ws` does tell, and
      // then silence (no frame, no ping) for the timeout really means a dead connection.
      const emitter = ws as unknown as { on?: (event: string, fn: () => void) => void };
      this.pingsVisible = typeof emitter.on === 'function';
      if (this.pingsVisible) emitter.on!('ping', () => this.ws === ws && this.armWatchdog());
      // Until the welcome tells us the heartbeat, assume the default timeout.
      this.armWatchdog();
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data === 'string') this.onFrame(ev.data);
    };
    ws.onerror = () => {
      /* a close event always follows; handled there */
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      void this.onClosed(ev.code, ev.reason, opened);
    };
  }

  private async onClosed(code: number, reason: string, opened: boolean): Promise<void> {
    this.detach();
    if (this.stopped) return;
    if (!shouldReconnect(code)) {
      this.stopped = true;
      this.clearTimers();
      const why = reason || `closed with ${code}`;
      this.events.emit('error', { code: 'closed', message: why });
      this.setStatus({ state: 'offline', reason: why, code });
      return;
    }
    if (!opened && code === ABNORMAL_CLOSE && this.stored && (await this.explainFailedConnect(this.stored))) return;
    if (opened && Date.now() - this.openedAt >= BACKOFF_RESET_AFTER_MS) this.backoff.reset();
    this.scheduleRetry();
  }

  /**
   * The upgrade failed before open. A browser cannot tell a refusal (401 expired token, 403 wrong
   * Origin) from a network error, so ask the web server. Returns true when it handled the case
   * (registered again, or stopped for good); false: a transient failure, redial as usual.
   */
  private async explainFailedConnect(s: StoredSession): Promise<boolean> {
    let check = await checkUpgrade(this.baseUrl, s.clientId, s.token, this.fetchImpl);
    if (this.stopped) return true;
    if (check.kind === 'unknown') {
      // A web server without /api/ws-check: at least find out whether the token is still good.
      const verdict = await checkToken(this.baseUrl, s.token, this.fetchImpl);
      if (this.stopped) return true;
      if (verdict !== 'invalid') return false;
      check = { kind: 'refused', status: 401, code: 'unauthorized', message: 'the session token was refused' };
    }
    if (check.kind === 'ok') return false;
    if (check.status === 401 && !this.freshRegistration) {
      // Our old token expired or the server's key changed: start a new session and go on.
      const hadSession = s.epoch !== undefined;
      this.memoryNextId = s.nextId;
      this.stored = undefined;
      this.store.clear();
      if (hadSession) this.events.emit('gap', { reason: 'new_session' });
      void this.dial();
      return true;
    }
    if (!isPermanentRefusal(check.status)) return false;
    this.stopRefused(check.status, check.code, check.message);
    return true;
  }

  /**
   * Retrying cannot change this answer (a page origin not allowed, a brand-new token refused):
   * stop and say why, instead of "reconnecting" for ever.
   */
  private stopRefused(status: number, code: string, message: string): void {
    const refusal: UpgradeRefusal = { status, code, message, hint: hintFor(status) };
    this.stopped = true;
    this.clearTimers();
    this.events.emit('error', { code: 'upgrade_refused', message: `${status} ${code}: ${message}` });
    this.setStatus({ state: 'offline', reason: `connection refused (${status} ${code}): ${message}`, refusal });
  }

  private scheduleRetry(): void {
    if (this.stopped) return;
    const inMs = this.backoff.next();
    this.setStatus({ state: 'reconnecting', inMs, at: Date.now() + inMs, cause: 'socket' });
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.dial(), inMs);
  }

  private redialNow(): void {
    const ws = this.ws;
    this.detach();
    ws?.close(HEARTBEAT_CLOSE, 'new session');
    clearTimeout(this.retryTimer);
    void this.dial();
  }

  /** Forget the current socket without waiting for its close handshake (it may be dead). */
  private detach(): void {
    const ws = this.ws;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = null;
      // Not null: a Node `ws` socket closed while still connecting emits 'error', which throws
      // (an uncaught exception) when nothing listens.
      ws.onerror = () => undefined;
    }
    this.ws = undefined;
    this.live = false;
    this.acksOn = false;
    clearTimeout(this.watchdog);
  }

  private clearTimers(): void {
    windowEvents()?.removeEventListener('online', this.onOnline);
    clearTimeout(this.retryTimer);
    clearTimeout(this.watchdog);
  }

  /**
   * Silence for `silenceMs` (no frame, and no ping where pings are visible): the socket is dead
   * even if the OS has not noticed. Where pings are invisible (browsers), an idle but healthy
   * socket is silent too, so there we probe instead: a frame sent on a socket the bridge has
   * already dropped (it does so after its own heartbeat timeout) is answered by a TCP reset,
   * and the browser reports the close at once.
   */
  private armWatchdog(): void {
    clearTimeout(this.watchdog);
    const ws = this.ws;
    this.watchdog = setTimeout(() => {
      if (this.ws !== ws || !ws) return;
      if (!this.pingsVisible) {
        this.probe();
        this.armWatchdog();
        return;
      }
      this.detach();
      try {
        ws.close(HEARTBEAT_CLOSE, 'heartbeat timeout');
      } catch {
        /* already closing */
      }
      void this.onClosed(HEARTBEAT_CLOSE, 'heartbeat timeout', true);
    }, this.silenceMs);
  }

  /** Send something harmless (an `ack` of what we have) so a dead socket shows itself. */
  private probe(): void {
    if (this.live && this.stored) this.sendRaw({ type: FrameType.ack, seq: this.stored.lastSeq });
  }

  private readonly onOnline = (): void => {
    // The network came back: a socket from before the outage is probably gone; find out now.
    this.probe();
  };

  // ---------- frames ----------

  private onFrame(raw: string): void {
    this.armWatchdog();
    const parsed = parseInboundFrame(raw);
    if (!parsed.ok) {
      this.events.emit('error', { code: 'bad_frame', message: parsed.message });
      return;
    }
    // A newer bridge may send types we do not know: ignore them.
    const frame = parsed.frame;
    if (!frame) return;
    // `accepted=inline`: the messages accepted just before this frame (in order, before it).
    if (frame.type !== FrameType.accepted && frame.type !== FrameType.welcome && frame.accepted !== undefined) {
      for (const ref of frame.accepted) {
        this.settle(ref);
        this.events.emit('accepted', { ref });
      }
    }
    switch (frame.type) {
      case FrameType.welcome:
        this.onWelcome(frame);
        return;
      case FrameType.message:
        if (this.trackSeq(frame.seq)) this.events.emit('message', frame);
        return;
      case FrameType.system:
        if (this.trackSeq(frame.seq)) this.onSystem(frame);
        return;
      case FrameType.error:
        if (frame.ref !== undefined) this.settle(frame.ref);
        this.events.emit('error', { code: frame.code, message: frame.message, ...(frame.ref ? { ref: frame.ref } : {}), frame });
        return;
      case FrameType.accepted:
        this.settle(frame.ref);
        this.events.emit('accepted', { ref: frame.ref });
        return;
    }
  }

  /** Advance the resume cursor; false for a frame we already have (a replay overlap). */
  private trackSeq(seq: unknown): boolean {
    if (typeof seq !== 'number' || !this.stored) return true;
    if (seq <= this.stored.lastSeq) return false;
    this.stored.lastSeq = seq;
    this.store.save(this.stored);
    if (++this.unackedFrames >= this.ackEvery) {
      this.unackedFrames = 0;
      this.sendRaw({ type: FrameType.ack, seq });
    }
    return true;
  }

  private onWelcome(w: ClientWelcomeFrame): void {
    if (!this.stored) return;
    const hadSession = this.stored.epoch !== undefined;
    const gap = !w.resumed && hadSession;
    if (!w.resumed) this.stored.lastSeq = typeof w.lastSeq === 'number' ? w.lastSeq : 0;
    this.stored.epoch = String(w.epoch);
    this.store.save(this.stored);
    if (typeof w.heartbeatMs === 'number' && w.heartbeatMs > 0) this.silenceMs = this.heartbeatOverride ?? w.heartbeatMs * 6;
    this.armWatchdog();
    this.live = true;
    this.setAgents(Array.isArray(w.agents) ? w.agents.map(String) : []);
    this.setStatus({ state: 'connected' });
    this.events.emit('welcome', { ...w, gap });
    if (gap) this.events.emit('gap', { reason: 'not_resumed' });
    // In order, before anything new. With acks they stay held until accepted (a resend of one the
    // bridge already took is answered accepted again and reaches the agent once).
    this.acksOn = this.acks && w.acks === true;
    const queued = [...this.outbox.values()];
    if (!this.acksOn) {
      this.outbox.clear();
      this.persistOutbox();
    }
    for (const text of queued) this.ws?.send(text);
  }

  private onSystem(f: SystemFrame): void {
    // Typed as SystemEvent so every case below is checked against the shared table.
    switch (f.event as SystemEvent) {
      case 'bridge.reconnecting': {
        const inMs = typeof f.retryInMs === 'number' ? f.retryInMs : 0;
        this.setStatus({ state: 'reconnecting', inMs, at: Date.now() + inMs, cause: 'bridge' });
        break;
      }
      case 'bridge.reconnected':
        if (this.stored && typeof f.epoch === 'string' && f.epoch !== this.stored.epoch) {
          this.stored.epoch = f.epoch;
          this.stored.lastSeq = typeof f.lastSeq === 'number' ? f.lastSeq : 0;
          this.store.save(this.stored);
        }
        this.setStatus({ state: 'connected' });
        if (f.resumed === false) this.events.emit('gap', { reason: 'not_resumed' });
        // A frame in flight on the web server's dead link got no accepted: send the held ones
        // again (the bridge answers those it already took accepted again, delivering nothing).
        if (this.acksOn) for (const text of this.outbox.values()) this.ws?.send(text);
        break;
      case 'agent.connected':
        if (typeof f.agent === 'string' && !this.agentsValue.includes(f.agent)) this.setAgents([...this.agentsValue, f.agent]);
        break;
      case 'agent.disconnected':
        if (typeof f.agent === 'string') this.setAgents(this.agentsValue.filter((a) => a !== f.agent));
        break;
      case 'messages.dropped':
        this.events.emit('gap', { reason: 'dropped', ...(typeof f.count === 'number' ? { count: f.count } : {}) });
        break;
      // Events for agents: a browser never gets them, and would only pass them on as 'system'.
      case 'client.connected':
      case 'client.disconnected':
      case 'client.expired':
      case 'client.authenticated':
      case 'client.signed_out':
        break;
    }
    this.events.emit('system', f);
  }

  // ---------- helpers ----------

  private sendRaw(frame: object): void {
    if (this.ws?.readyState === OPEN) this.ws.send(JSON.stringify(frame));
  }

  private takeId(): number {
    if (!this.stored) return this.memoryNextId++;
    const n = this.stored.nextId++;
    this.store.save(this.stored);
    return n;
  }

  private setAgents(agents: string[]): void {
    this.agentsValue = agents;
    this.events.emit('agents', agents);
  }

  private setStatus(s: BridgeStatus): void {
    this.statusValue = s;
    this.events.emit('status', s);
  }
}

interface EventHost {
  addEventListener(type: string, fn: () => void): void;
  removeEventListener(type: string, fn: () => void): void;
}
function windowEvents(): EventHost | undefined {
  const g = globalThis as Partial<EventHost>;
  return typeof g.addEventListener === 'function' && typeof g.removeEventListener === 'function' ? (g as EventHost) : undefined;
}

function safeSessionStorage(): StorageLike | undefined {
  try {
    return (globalThis as { sessionStorage?: StorageLike }).sessionStorage;
  } catch {
    return undefined; // access throws when storage is disabled
  }
}

export function createBridgeClient(opts: BridgeClientOptions = {}): BridgeClient {
  return new BridgeClient(opts);
}
