/**
 * The one conversation both views show. It survives reloads in sessionStorage, next to the
 * browser client's resume cursor: after a reload the bridge replays only what came after the
 * cursor, so what came before must come from here.
 */
import type { BridgeClient, BridgeStatus, GapEvent } from '@agent-bridge/browser-client';
import { DEFAULT_AGENT, type SystemEvent } from '@agent-bridge/common/protocol';
import { textOf, type Entry } from './entry.ts';

const STORAGE_KEY = 'sploots.conversation';
const MAX_ENTRIES = 500;
/** `@echo hello` → agent `echo`, text `hello` (agent names: 1–64 of A-Z a-z 0-9 . _ -). */
const ADDRESSED = /^@([A-Za-z0-9._-]{1,64})\s+(\S[\s\S]*)$/;

export interface ConversationState {
  entries: readonly Entry[];
  status: BridgeStatus;
  agents: readonly string[];
  /** Shown as a banner: "some messages may be missing". */
  gap: GapEvent | null;
  /** Bumped on every incoming message: the 3D creature pulses on it. */
  pulse: number;
}

type Listener = () => void;

export class ConversationStore {
  private state: ConversationState;
  private readonly listeners = new Set<Listener>();
  private noticeSeq = 0;

  constructor(
    private readonly client: BridgeClient,
    private readonly storage: Storage | undefined = safeStorage(),
  ) {
    this.state = {
      entries: this.load(),
      status: client.status,
      agents: client.agents,
      gap: null,
      pulse: 0,
    };
    client.on('status', (status) => this.set({ status }));
    client.on('agents', (agents) => this.set({ agents }));
    client.on('message', (f) => {
      const ts = Date.parse(f.ts);
      this.add({ key: `m-${f.id}`, kind: 'in', from: f.from, text: textOf(f.data), ts: Number.isNaN(ts) ? Date.now() : ts });
      this.set({ pulse: this.state.pulse + 1 });
    });
    client.on('system', (f) => {
      const event = f.event as SystemEvent;
      if (event === 'agent.connected' || event === 'agent.disconnected') {
        const verb = event === 'agent.connected' ? 'connected' : 'went offline';
        this.notice(`agent ${String(f.agent ?? DEFAULT_AGENT)} ${verb}`);
      }
    });
    client.on('gap', (gap) => {
      this.set({ gap });
      this.notice(gap.reason === 'dropped' ? `${gap.count ?? 'some'} broadcast messages were dropped` : 'some messages may be missing');
    });
    client.on('error', (e) => {
      // Client-side retries (register_failed) show in the status bar; wire errors go in the log.
      if (e.frame) this.add({ key: this.localKey(), kind: 'error', from: 'bridge', text: `${e.code}: ${e.message}`, ts: Date.now() });
    });
  }

  // ---------- React glue (useSyncExternalStore) ----------
  subscribe = (fn: Listener): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };
  getSnapshot = (): ConversationState => this.state;

  // ---------- actions ----------
  /**
   * Send a line typed by the person; returns the message id. `@name rest` sends `rest` to the
   * agent called `name` (the frame's `agent` field) instead of the default agent.
   */
  send(text: string, via: 'terminal' | 'chat'): string {
    const addressed = ADDRESSED.exec(text);
    const id = addressed ? this.client.send({ text: addressed[2]! }, { agent: addressed[1]! }) : this.client.send({ text });
    this.add({ key: id, kind: 'out', from: 'you', text, ts: Date.now(), via });
    return id;
  }

  dismissGap(): void {
    this.set({ gap: null });
  }

  clear(): void {
    this.set({ entries: [] });
    this.persist();
  }

  // ---------- internals ----------
  private notice(text: string): void {
    this.add({ key: this.localKey(), kind: 'notice', from: 'bridge', text, ts: Date.now() });
  }

  private localKey(): string {
    return `n-${Date.now().toString(36)}-${++this.noticeSeq}`;
  }

  private add(entry: Entry): void {
    if (this.state.entries.some((e) => e.key === entry.key)) return;
    const entries = [...this.state.entries, entry].slice(-MAX_ENTRIES);
    this.set({ entries });
    this.persist();
  }

  private set(patch: Partial<ConversationState>): void {
    this.state = { ...this.state, ...patch };
    for (const fn of [...this.listeners]) fn();
  }

  private persist(): void {
    try {
      this.storage?.setItem(STORAGE_KEY, JSON.stringify(this.state.entries));
    } catch {
      /* quota: the conversation just will not survive a reload */
    }
  }

  private load(): Entry[] {
    try {
      const raw = this.storage?.getItem(STORAGE_KEY);
      const v: unknown = raw ? JSON.parse(raw) : [];
      return Array.isArray(v) ? (v as Entry[]).filter((e) => e && typeof e.key === 'string' && typeof e.text === 'string') : [];
    } catch {
      return [];
    }
  }
}

function safeStorage(): Storage | undefined {
  try {
    return globalThis.sessionStorage;
  } catch {
    return undefined;
  }
}
