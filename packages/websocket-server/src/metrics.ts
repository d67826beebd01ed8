/**
 * The broker's metrics: the catalog's `broker` families (common/metrics-catalog.ts, documented in
 * docs/metrics.md) on one Registry per broker (several brokers may run in one test process).
 * Gauges that mirror state are read at scrape time from `BrokerView`; the per-frame counters and
 * the delivery-latency histogram are fed by the router and the mailboxes through this class.
 */
import {
  closeCodeLabel,
  createServiceMetrics,
  EventRing,
  frameTypeLabel,
  routeLabel,
  statusLabel,
  type ServiceMetrics,
} from '@agent-bridge/common/metrics';
import { FlushClock } from '@agent-bridge/common';

export type Peer = 'agent' | 'client';

interface CounterChild {
  inc(value?: number): void;
}
interface InHandles {
  frames: CounterChild;
  bytes: CounterChild;
}
interface OutHandles extends InHandles {
  latency: { observe(value: number): void };
}

/** What the scrape-time gauges read. */
export interface BrokerView {
  connections(): { agent: number; client: number };
  sessions(): { connected: number; detached: number };
  /** Open connections per agent name. */
  agents(): Map<string, number>;
  /** Waiting client messages per agent name. */
  waitQueues(): Map<string, number>;
  waitQueueBytes(): number;
  resumeBufferBytes(): number;
  /** Queued frames per mailbox, by kind. */
  mailboxes(): { agent: number[]; client: number[] };
  ready(): boolean;
}

export class BrokerMetrics {
  readonly m: ServiceMetrics<'broker'>;
  /** The ops view's recent errors sent and closes seen. */
  readonly recentErrors = new EventRing();
  readonly recentCloses = new EventRing();
  /** METRICS=on: per-frame bytes and latency are measured (their handles are no-ops otherwise). */
  private readonly perFrame: boolean;
  /** Per-frame handles bound once per kind and frame type (frame types are a closed set). */
  private readonly inHandles: Record<Peer, Map<string, InHandles>> = { agent: new Map(), client: new Map() };
  private readonly outHandles: Record<Peer, Map<string, OutHandles>> = { agent: new Map(), client: new Map() };
  /** Every frame written, as text (BrokerOptions.onFrameOut: tests check them against the schemas). */
  private readonly onFrameOut: ((kind: Peer, text: string) => void) | undefined;
  /** Delivery latency ends when the turn's frames are written (flush-clock.ts): ms, observed in s. */
  private readonly written = new FlushClock(() => performance.now(), 1 / 1000);

  constructor(view: BrokerView, opts: { perFrame?: boolean; onFrameOut?: ((kind: Peer, text: string) => void) | undefined } = {}) {
    this.perFrame = opts.perFrame !== false;
    this.onFrameOut = opts.onFrameOut;
    const perName = (g: { set(labels: { agent: string }, v: number): void }, counts: Map<string, number>) => {
      const labelled = new Map<string, number>();
      for (const [name, n] of counts) {
        const label = this.m.agentLabel(name);
        labelled.set(label, (labelled.get(label) ?? 0) + n);
      }
      // A name seen once stays a series at 0: the "no agent of a name" alert needs the 0.
      for (const label of this.m.knownAgentLabels()) g.set({ agent: label }, labelled.get(label) ?? 0);
    };
    this.m = createServiceMetrics('broker', {
      perFrame: this.perFrame,
      collect: {
        connections: (g) => {
          const c = view.connections();
          g.set({ kind: 'agent' }, c.agent);
          g.set({ kind: 'client' }, c.client);
        },
        sessions: (g) => {
          const s = view.sessions();
          g.set({ state: 'connected' }, s.connected);
          g.set({ state: 'detached' }, s.detached);
        },
        agents: (g) => perName(g, view.agents()),
        waitQueueDepth: (g) => perName(g, view.waitQueues()),
        waitQueueBytes: (g) => g.set(view.waitQueueBytes()),
        resumeBufferBytes: (g) => g.set(view.resumeBufferBytes()),
        mailboxFrames: (g) => {
          const mb = view.mailboxes();
          g.set({ kind: 'agent' }, sum(mb.agent));
          g.set({ kind: 'client' }, sum(mb.client));
        },
        mailboxFramesMax: (g) => {
          const mb = view.mailboxes();
          g.set({ kind: 'agent' }, max(mb.agent));
          g.set({ kind: 'client' }, max(mb.client));
        },
        ready: (g) => g.set(view.ready() ? 1 : 0),
      },
    });
  }

  get registry() {
    return this.m.registry;
  }
  get errors() {
    return this.m.errors;
  }
  get capacityRefusals() {
    return this.m.capacityRefusals;
  }
  get resumeEvicted() {
    return this.m.resumeEvicted;
  }
  get broadcastsDropped() {
    return this.m.broadcastsDropped;
  }
  get resumes() {
    return this.m.resumes;
  }

  /** A frame read from a socket (`bytes` when known). */
  frameIn(kind: Peer, type: unknown, bytes?: number): void {
    const label = frameTypeLabel(type);
    const h = this.inHandles[kind].get(label) ?? this.bindIn(kind, label);
    h.frames.inc();
    if (bytes !== undefined) h.bytes.inc(bytes);
  }

  /**
   * A frame handed to a socket: `text` is what was written (`bytes` its UTF-8 length, when known); `receivedAt` (performance.now() when
   * the broker read the frame this one delivers) gives the delivery latency, up to the write at
   * the end of this turn (every socket write is batched per turn). Replays and the
   * broker's own frames have none. Per delivery (a broadcast calls it once per session), so the
   * handles are bound once per kind and type: one Map lookup, no label object (issue 15 item 7).
   */
  frameOut(kind: Peer, type: string, text?: string, receivedAt?: number, bytes?: number): void {
    const h = this.outHandles[kind].get(type) ?? this.bindOut(kind, type);
    h.frames.inc();
    if (this.onFrameOut && text !== undefined) this.onFrameOut(kind, text);
    if (!this.perFrame) return;
    // `bytes`: the caller's own count of `text` (a template's body + seq prefix, a queued entry's
    // size), so a delivered message is not measured a second time (issue 15 item 7).
    if (bytes !== undefined) h.bytes.inc(bytes);
    else if (text !== undefined) h.bytes.inc(Buffer.byteLength(text));
    if (receivedAt !== undefined) this.written.observe(h.latency, receivedAt);
  }

  private bindIn(kind: Peer, type: string): InHandles {
    const h = { frames: this.m.framesIn.labels({ kind, type }), bytes: this.m.bytesIn.labels({ kind }) };
    this.inHandles[kind].set(type, h);
    return h;
  }

  private bindOut(kind: Peer, type: string): OutHandles {
    const h = {
      frames: this.m.framesOut.labels({ kind, type }),
      bytes: this.m.bytesOut.labels({ kind }),
      latency: this.m.deliveryLatency.labels({ kind }),
    };
    this.outHandles[kind].set(type, h);
    return h;
  }

  /** An error frame sent to a peer. */
  error(code: string, kind: Peer, detail: string, agent?: string): void {
    this.m.errors.inc({ code });
    this.recentErrors.push({ ts: new Date().toISOString(), code, kind, agent, detail: detail.slice(0, 200) });
  }

  opened(kind: Peer): void {
    this.m.connectionsOpened.inc({ kind });
  }

  closed(kind: Peer, code: number, agent?: string): void {
    const label = closeCodeLabel(code);
    this.m.closes.inc({ kind, code: label });
    this.recentCloses.push(agent === undefined ? { ts: new Date().toISOString(), code: label, kind } : { ts: new Date().toISOString(), code: label, kind, agent });
  }

  request(path: string, method: string, status: number, seconds: number): void {
    const route = routeLabel(path);
    this.m.httpRequests.inc({ route, method, status: statusLabel(status) });
    this.m.httpDuration.observe({ route }, seconds);
  }

  heartbeatRtt(kind: Peer, seconds: number): void {
    this.m.heartbeatRtt.observe({ kind }, seconds);
  }
}

/** A loop, not Math.max(...xs): spreading one argument per socket overflows the stack at scale. */
function max(xs: number[]): number {
  let m = 0;
  for (const x of xs) if (x > m) m = x;
  return m;
}

function sum(xs: number[]): number {
  let n = 0;
  for (const x of xs) n += x;
  return n;
}
