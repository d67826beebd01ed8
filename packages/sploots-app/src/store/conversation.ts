/**
 * The conversation both views show, normalised: rows by id plus one order, a thread per agent
 * name (the rows of that agent, plus bridge-wide notices), and agent runs kept by the
 * browser client's RunModel. Every getter returns the same object until that part changes, so a
 * view subscribed through a selector hook (useSyncExternalStore) re-renders only when its part
 * did: a streamed token changes one run, not the thread, not the page.
 *
 * It survives reloads in sessionStorage, next to the browser client's resume cursor: after a
 * reload the bridge replays only what came after that cursor, so what came before must come from
 * here. Runs are restored into the RunModel, so a reply that was streaming continues in place:
 * resumed deltas are trimmed by the offset rule and the text comes out exact. Writes are
 * debounced (not one per token) and flushed when the page is left.
 */
import {
  isRunEvent,
  RunModel,
  type BridgeClient,
  type BridgeStatus,
  type GapEvent,
  type PendingInterrupt,
  type RunView,
} from '@agent-bridge/browser-client';
import { DEFAULT_AGENT, type SystemEvent } from '@agent-bridge/common/protocol';
import { DebouncedSaver } from './persist.ts';
import { textOf, type Row } from './entry.ts';

export const STORAGE_KEY = 'sploots.conversation.v2';
const LEGACY_KEY = 'sploots.conversation';
const MAX_ROWS = 500;
/** `@echo hello` → agent `echo`, text `hello` (agent names: 1–64 of A-Z a-z 0-9 . _ -). */
const ADDRESSED = /^@([A-Za-z0-9._-]{1,64})\s+(\S[\s\S]*)$/;
export const AGENT_NAME = /^[A-Za-z0-9._-]{1,64}$/;

export type Answer = 'approved' | 'denied';

export interface ConversationMeta {
  status: BridgeStatus;
  /** Agent names connected now (welcome's `agents`, then agent.connected / agent.disconnected). */
  agents: readonly string[];
  /** Shown as a banner: "some messages may be missing". */
  gap: GapEvent | null;
}

/** The old whole-state shape, for views that want status, agents and the pulse together. */
export interface ConversationState extends ConversationMeta {
  /** Bumped on every incoming message and run start/end: the 3D creature pulses on it. */
  pulse: number;
}

interface Saved {
  v: 2;
  rows: Row[];
  runs: RunView[];
  asked: Record<string, PendingInterrupt[]>;
  answers: Record<string, Answer>;
}

type Listener = () => void;
type ConversationClient = Pick<BridgeClient, 'on' | 'send' | 'sendFrame' | 'status' | 'agents'>;

export class ConversationStore {
  readonly runs: RunModel;
  private rows = new Map<string, Row>();
  private order: string[] = [];
  private readonly threadCache = new Map<string, readonly string[]>();
  private knownCache: readonly string[] | undefined;
  private meta: ConversationMeta;
  private state: ConversationState;
  private pulse = 0;
  /** Interrupts each run asked, kept after they are answered (the card shows the answer). */
  private asked = new Map<string, readonly PendingInterrupt[]>();
  private answers = new Map<string, Answer>();
  /** Runs we asked to stop and that have not ended yet. */
  private stopping = new Set<string>();
  private readonly runRowOf = new Map<string, string>();
  /** Frame id of a sent line → its agent, so an error with that `ref` lands in the right thread. */
  private readonly sentTo = new Map<string, string>();
  private readonly listeners = new Set<Listener>();
  private readonly saver: DebouncedSaver;
  private noticeSeq = 0;

  constructor(
    private readonly client: ConversationClient,
    private readonly storage: Storage | undefined = safeStorage(),
    runs?: RunModel,
  ) {
    this.meta = { status: client.status, agents: client.agents, gap: null };
    this.state = { ...this.meta, pulse: 0 };
    this.saver = new DebouncedSaver(() => this.persist());
    // The RunModel subscribes first: a run event is reduced before our own handler sees it.
    this.runs = runs ?? new RunModel(client as unknown as ConstructorParameters<typeof RunModel>[0]);
    this.load();

    client.on('status', (status) => this.setMeta({ status }));
    client.on('agents', (agents) => this.setMeta({ agents }));
    client.on('message', (f) => {
      if (isRunEvent(f.data)) return; // the RunModel has it
      const ts = Date.parse(f.ts);
      this.add({ id: `m-${f.id}`, kind: 'in', agent: f.from, text: textOf(f.data), ts: Number.isNaN(ts) ? Date.now() : ts });
      this.bump();
    });
    this.runs.on('update', (run) => this.onRun(run));
    this.runs.on('started', () => this.bump());
    this.runs.on('ended', (run) => {
      this.stopping.delete(run.runId);
      this.bump();
    });
    this.runs.on('interrupt', (i) => {
      const had = this.asked.get(i.runId) ?? [];
      if (!had.some((x) => x.id === i.id)) this.asked.set(i.runId, [...had, i]);
      this.changed(true);
    });
    client.on('system', (f) => {
      const event = f.event as SystemEvent;
      if (event === 'agent.connected' || event === 'agent.disconnected') {
        const agent = String(f.agent ?? DEFAULT_AGENT);
        this.notice(`agent ${agent} ${event === 'agent.connected' ? 'connected' : 'went offline'}`, agent);
      }
    });
    client.on('gap', (gap) => {
      this.setMeta({ gap });
      this.notice(gap.reason === 'dropped' ? `${gap.count ?? 'some'} broadcast messages were dropped` : 'some messages may be missing', null);
    });
    client.on('error', (e) => {
      // Client-side retries (register_failed) show in the status bar; wire errors go in the log.
      if (!e.frame) return;
      const agent = (e.ref && this.sentTo.get(e.ref)) ?? null;
      this.add({ id: this.localId(), kind: 'error', agent, text: `${e.code}: ${e.message}`, ts: Date.now() });
    });
  }

  // ---------- subscriptions (useSyncExternalStore) ----------
  subscribe = (fn: Listener): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  /** Status, agents, gap and pulse in one object (changes on any of them). */
  getSnapshot = (): ConversationState => this.state;
  getMeta = (): ConversationMeta => this.meta;
  getPulse = (): number => this.pulse;

  /** Every row id in order (all agents): what the terminal shows. */
  allIds(): readonly string[] {
    return this.order;
  }

  /** Row ids of one agent's thread, bridge-wide notices included. */
  thread(agent: string): readonly string[] {
    let ids = this.threadCache.get(agent);
    if (!ids) {
      ids = this.order.filter((id) => {
        const r = this.rows.get(id)!;
        return r.agent === agent || r.agent === null;
      });
      this.threadCache.set(agent, ids);
    }
    return ids;
  }

  row(id: string): Row | undefined {
    return this.rows.get(id);
  }

  run(runId: string): RunView | undefined {
    return this.runs.get(runId);
  }

  /** The run of `agent` streaming now (the newest), if any: what Stop stops. */
  activeRun(agent: string): string | undefined {
    const active = this.runs.active(agent);
    return active[active.length - 1]?.runId;
  }

  isStopping(runId: string): boolean {
    return this.stopping.has(runId);
  }

  /** Interrupts a run asked (answered or not). */
  askedBy(runId: string): readonly PendingInterrupt[] | undefined {
    return this.asked.get(runId);
  }

  answerOf(interruptId: string): Answer | undefined {
    return this.answers.get(interruptId);
  }

  /** Whether an interrupt still waits for this client's answer. */
  isPending(i: PendingInterrupt): boolean {
    return this.runs.get(i.runId)?.interrupts.some((x) => x.id === i.id) ?? false;
  }

  /** Agent names to offer: connected ones, ones we have a thread with, and the default. */
  knownAgents(): readonly string[] {
    if (!this.knownCache) {
      const names = new Set<string>([DEFAULT_AGENT, ...this.meta.agents]);
      for (const r of this.rows.values()) if (r.agent) names.add(r.agent);
      this.knownCache = [...names].sort((a, b) => (a === DEFAULT_AGENT ? -1 : b === DEFAULT_AGENT ? 1 : a.localeCompare(b)));
    }
    return this.knownCache;
  }

  // ---------- actions ----------
  /**
   * Send a line typed by the person to `agent` (default: the default agent); returns the frame
   * id. `@name rest` sends `rest` to the agent called `name` instead.
   */
  send(text: string, via: 'terminal' | 'chat', agent: string = DEFAULT_AGENT): string {
    const addressed = ADDRESSED.exec(text);
    const to = addressed ? addressed[1]! : agent;
    const body = addressed ? addressed[2]! : text;
    const id = to === DEFAULT_AGENT ? this.client.send({ text: body }) : this.client.send({ text: body }, { agent: to });
    this.sentTo.set(id, to);
    this.add({ id, kind: 'out', agent: to, text, ts: Date.now(), via });
    return id;
  }

  /** Stop `agent`'s active run(s) (a §9 `cancel` each). False when nothing streams. */
  stop(agent: string): boolean {
    const active = this.runs.active(agent);
    for (const run of active) {
      const id = this.runs.cancel(run.runId);
      this.sentTo.set(id, agent);
      this.stopping.add(run.runId);
    }
    if (active.length > 0) this.changed(false);
    return active.length > 0;
  }

  /** Approve or deny an interrupt (AG-UI resume; the agent sees who answered). */
  answer(i: PendingInterrupt, approved: boolean): void {
    if (!this.isPending(i)) return;
    this.answers.set(i.id, approved ? 'approved' : 'denied');
    this.sentTo.set(this.runs.answer(i, { approved }), i.agent);
    this.changed(true);
  }

  dismissGap(): void {
    this.setMeta({ gap: null });
  }

  clear(): void {
    this.rows = new Map();
    this.order = [];
    this.asked = new Map();
    this.answers = new Map();
    this.changed(true);
    this.saver.flush();
  }

  /** Write pending changes now (tests; the page does it on pagehide). */
  flush(): void {
    this.saver.flush();
  }

  // ---------- internals ----------
  private onRun(run: RunView): void {
    if (!this.runRowOf.has(run.runId)) {
      const id = `run-${run.runId}`;
      this.runRowOf.set(run.runId, id);
      this.add({ id, kind: 'run', agent: run.agent, runId: run.runId, ts: Date.now() });
      return;
    }
    this.changed(true);
  }

  private notice(text: string, agent: string | null): void {
    this.add({ id: this.localId(), kind: 'notice', agent, text, ts: Date.now() });
  }

  private localId(): string {
    return `n-${Date.now().toString(36)}-${++this.noticeSeq}`;
  }

  private add(row: Row): void {
    if (this.rows.has(row.id)) return;
    this.rows.set(row.id, row);
    this.order = [...this.order, row.id];
    if (this.order.length > MAX_ROWS) {
      for (const id of this.order.slice(0, this.order.length - MAX_ROWS)) {
        const r = this.rows.get(id);
        if (r?.kind === 'run') this.asked.delete(r.runId);
        this.rows.delete(id);
      }
      this.order = this.order.slice(-MAX_ROWS);
    }
    this.threadCache.clear();
    this.knownCache = undefined;
    this.changed(true);
  }

  private setMeta(patch: Partial<ConversationMeta>): void {
    this.meta = { ...this.meta, ...patch };
    if ('agents' in patch) this.knownCache = undefined;
    this.state = { ...this.meta, pulse: this.pulse };
    this.emit();
  }

  private bump(): void {
    this.pulse++;
    this.state = { ...this.meta, pulse: this.pulse };
    this.emit();
  }

  private changed(persist: boolean): void {
    if (persist) this.saver.schedule();
    this.emit();
  }

  private emit(): void {
    for (const fn of [...this.listeners]) fn();
  }

  private persist(): void {
    const runs: RunView[] = [];
    const asked: Record<string, PendingInterrupt[]> = {};
    for (const id of this.order) {
      const r = this.rows.get(id);
      if (r?.kind !== 'run') continue;
      const run = this.runs.get(r.runId);
      if (run) runs.push(run);
      const a = this.asked.get(r.runId);
      if (a) asked[r.runId] = [...a];
    }
    const saved: Saved = {
      v: 2,
      rows: this.order.map((id) => this.rows.get(id)!),
      runs,
      asked,
      answers: Object.fromEntries(this.answers),
    };
    try {
      this.storage?.setItem(STORAGE_KEY, JSON.stringify(saved));
    } catch {
      /* quota: the conversation just will not survive a reload */
    }
  }

  private load(): void {
    let saved: Partial<Saved> | undefined;
    try {
      this.storage?.removeItem(LEGACY_KEY);
      const raw = this.storage?.getItem(STORAGE_KEY);
      saved = raw ? (JSON.parse(raw) as Partial<Saved>) : undefined;
    } catch {
      return;
    }
    if (saved?.v !== 2 || !Array.isArray(saved.rows)) return;
    for (const r of saved.rows) {
      if (typeof r?.id !== 'string' || this.rows.has(r.id) || !isRow(r)) continue;
      this.rows.set(r.id, r);
      this.order.push(r.id);
      if (r.kind === 'run') this.runRowOf.set(r.runId, r.id);
    }
    if (Array.isArray(saved.runs)) this.runs.restore(saved.runs.filter((v) => v && this.runRowOf.has(v.runId)));
    for (const [runId, list] of Object.entries(saved.asked ?? {})) if (Array.isArray(list)) this.asked.set(runId, list);
    for (const [id, a] of Object.entries(saved.answers ?? {})) if (a === 'approved' || a === 'denied') this.answers.set(id, a);
  }
}

function isRow(r: Row): boolean {
  if (typeof r.ts !== 'number') return false;
  switch (r.kind) {
    case 'out':
    case 'in':
      return typeof r.agent === 'string' && typeof r.text === 'string';
    case 'notice':
    case 'error':
      return (r.agent === null || typeof r.agent === 'string') && typeof r.text === 'string';
    case 'run':
      return typeof r.agent === 'string' && typeof r.runId === 'string';
    default:
      return false;
  }
}

function safeStorage(): Storage | undefined {
  try {
    return globalThis.sessionStorage;
  } catch {
    return undefined;
  }
}
