/**
 * Agent runs for apps (PROTOCOL §9): feeds on the client's `message` frames, picks out AG-UI run
 * events (`data.type` an AG-UI event type, `data.runId` a string) and keeps each run as a RunView:
 * its messages assembled from deltas with the offset rule (so coalesced `merged` frames and
 * replays after a resume add exactly what is missing), tool calls with streamed arguments and
 * results, state, and the interrupts awaiting an answer.
 *
 *   const runs = new RunModel(client);
 *   runs.on('text', ({ message }) => render(message.text));
 *   runs.cancel(runId);                        // Stop
 *   runs.answer(interrupt, { approved: true }); // Approve
 *
 * Messages that are not run events are left to the app (the `message` event, as before).
 */
import { EventType, type Interrupt, type JsonPatchOperation, type ResumeEntry } from '@ag-ui/core';
import { DEFAULT_AGENT, FrameType, appendDelta } from '@agent-bridge/common/protocol';
import { Emitter } from './emitter.ts';
import type { DeliveredMessageFrame } from './frames.ts';
import { applyPatch } from './runs-patch.ts';
import type { PendingInterrupt, RunEvents, RunMessage, RunStatus, RunToolCall, RunView } from './runs-types.ts';

export type * from './runs-types.ts';

/** What the model needs of a BridgeClient (and what tests can fake). */
export interface RunClient {
  on(event: 'message', fn: (frame: DeliveredMessageFrame) => void): () => void;
  send(data: unknown, opts?: { agent?: string }): string;
  sendFrame(frame: { type: string } & Record<string, unknown>): string;
}

type Ev = Record<string, unknown> & { type: string; runId: string };

const EVENT_TYPES = new Set<string>(Object.values(EventType));
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** True for the `data` of a run event. */
export function isRunEvent(data: unknown): data is Ev {
  if (typeof data !== 'object' || data === null) return false;
  const d = data as Record<string, unknown>;
  return typeof d.type === 'string' && EVENT_TYPES.has(d.type) && typeof d.runId === 'string';
}

function newRunId(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  return c?.randomUUID ? c.randomUUID() : `run-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

export class RunModel {
  private readonly events = new Emitter<RunEvents>();
  private readonly byId = new Map<string, RunView>();
  private readonly off: () => void;
  /** Events found while reducing one frame, emitted once its run view is committed. */
  private readonly notes: (() => void)[] = [];

  constructor(private readonly client: RunClient) {
    this.off = client.on('message', (f) => this.apply(f));
  }

  on<K extends keyof RunEvents>(event: K, fn: (payload: RunEvents[K]) => void): () => void {
    return this.events.on(event, fn);
  }

  get runs(): ReadonlyMap<string, RunView> {
    return this.byId;
  }

  get(runId: string): RunView | undefined {
    return this.byId.get(runId);
  }

  /** Runs still streaming (optionally of one agent name): what a Stop button stops. */
  active(agent?: string): RunView[] {
    return [...this.byId.values()].filter((r) => r.status === 'running' && (agent === undefined || r.agent === agent));
  }

  /** Every interrupt waiting for an answer, oldest run first. */
  pendingInterrupts(): PendingInterrupt[] {
    return [...this.byId.values()].flatMap((r) => r.interrupts);
  }

  /**
   * Ask the run's agent to stop it (§9 `cancel`, routed to the agent that streams it). Returns the
   * frame id. The run ends when the agent's RUN_FINISHED (outcome `cancelled`) arrives.
   */
  cancel(runId: string): string {
    const agent = this.byId.get(runId)?.agent;
    return this.client.sendFrame({ type: FrameType.cancel, runId, ...(agent && agent !== DEFAULT_AGENT ? { agent } : {}) });
  }

  /**
   * Answer an interrupt (AG-UI 1.0 resume): a `message` to the run's agent whose data is a
   * RunAgentInput continuing the thread in a new run, with `resume: [{interruptId, status, payload}]`.
   * `status: 'cancelled'` dismisses it. Returns the frame id; the interrupt leaves the pending list.
   */
  answer(interrupt: PendingInterrupt, value: unknown, opts: { status?: ResumeEntry['status']; runId?: string } = {}): string {
    const entry: ResumeEntry = { interruptId: interrupt.id, status: opts.status ?? 'resolved', ...(value === undefined ? {} : { payload: value }) };
    const data = {
      threadId: interrupt.threadId,
      runId: opts.runId ?? newRunId(),
      parentRunId: interrupt.runId,
      messages: [],
      tools: [],
      context: [],
      resume: [entry],
    };
    const id = this.client.send(data, { agent: interrupt.agent });
    const run = this.byId.get(interrupt.runId);
    if (run) this.commit({ ...run, interrupts: run.interrupts.filter((i) => i.id !== interrupt.id) });
    return id;
  }

  /**
   * Apply one delivered frame (the model does this itself for the client's frames; apps may also
   * feed frames they kept, e.g. after a reload). True when it was a run event.
   */
  apply(frame: DeliveredMessageFrame): boolean {
    if (!isRunEvent(frame.data)) return false;
    const ev = frame.data;
    let run = this.byId.get(ev.runId);
    // A frame this run already applied (a replay overlap, or a frame fed again after restore()).
    // Merged frames carry the seq of their last event, so one that overlaps what we hold still
    // passes and the offset rule trims it. Per run, not per model: a new epoch restarts seqs, and
    // its runs must not be judged against the old numbers.
    if (run && frame.seq <= run.lastSeq) return true;
    const threadId = str(ev.threadId) ?? '';
    const isNew = run === undefined;
    run ??= { runId: ev.runId, threadId, agent: frame.from, status: 'running', items: [], interrupts: [], lastSeq: 0 };
    run = this.reduce({ ...run, lastSeq: frame.seq }, ev);
    this.commit(run);
    if (isNew || ev.type === EventType.RUN_STARTED) this.events.emit('started', run);
    for (const note of this.notes.splice(0)) note();
    return true;
  }

  /**
   * Put back runs kept from before a page reload (views this model produced, e.g. persisted as
   * JSON). Frames resumed after them continue them: a frame at or below a run's `lastSeq` is
   * skipped and a delta overlapping text it holds is trimmed by the offset rule, so the assembled
   * text comes out exact. Runs this model already holds are left alone.
   */
  restore(views: Iterable<RunView>): void {
    for (const v of views) {
      if (typeof v?.runId !== 'string' || this.byId.has(v.runId)) continue;
      this.byId.set(v.runId, v);
    }
  }

  dispose(): void {
    this.off();
    this.events.clear();
  }

  // ---------------------------------------------------------------- reducing events

  private reduce(run: RunView, ev: Ev): RunView {
    switch (ev.type) {
      case EventType.RUN_STARTED: {
        const parentRunId = str(ev.parentRunId);
        if (parentRunId !== undefined) this.continued(parentRunId);
        return { ...run, status: 'running', ...(parentRunId === undefined ? {} : { parentRunId }) };
      }
      case EventType.TEXT_MESSAGE_START:
      case EventType.REASONING_MESSAGE_START:
        return this.message(run, ev, str(ev.role) ?? (ev.type === EventType.REASONING_MESSAGE_START ? 'reasoning' : 'assistant'));
      case EventType.TEXT_MESSAGE_CONTENT:
      case EventType.TEXT_MESSAGE_CHUNK:
      case EventType.REASONING_MESSAGE_CONTENT:
        return this.text(run, ev);
      case EventType.TEXT_MESSAGE_END:
      case EventType.REASONING_MESSAGE_END:
        return this.update(run, `m:${str(ev.messageId)}`, (m: RunMessage) => ({ ...m, streaming: false }));
      case EventType.TOOL_CALL_START: {
        const id = str(ev.toolCallId);
        if (id === undefined || run.items.some((i) => i.kind === 'tool' && i.id === id)) return run;
        const parentMessageId = str(ev.parentMessageId);
        const tool: RunToolCall = { kind: 'tool', id, name: str(ev.toolCallName) ?? '', args: '', status: 'streaming', ...(parentMessageId ? { parentMessageId } : {}) };
        return this.added(run, tool);
      }
      case EventType.TOOL_CALL_ARGS:
        return this.update(run, `t:${str(ev.toolCallId)}`, (t: RunToolCall) => ({ ...t, args: t.args + appendDelta(t.args, deltaOf(ev)) }), true);
      case EventType.TOOL_CALL_END:
        return this.update(run, `t:${str(ev.toolCallId)}`, (t: RunToolCall) => (t.status === 'done' ? t : { ...t, status: 'called' }), true);
      case EventType.TOOL_CALL_RESULT: {
        const key = `t:${str(ev.toolCallId)}`;
        const done = (t: RunToolCall): RunToolCall => ({ ...t, status: 'done', result: contentText(ev.content) });
        const next = this.update(run, key, done, true);
        if (next !== run) return next;
        // A result after an approval arrives in the continuation run: the call is its parent's.
        const owner = this.ancestorWith(run, ev.toolCallId);
        if (owner) this.commit(this.update(owner, key, done, true));
        return run;
      }
      case EventType.STATE_SNAPSHOT:
        return { ...run, state: ev.snapshot };
      case EventType.STATE_DELTA:
        try {
          return { ...run, state: applyPatch(run.state, ev.delta as JsonPatchOperation[]) };
        } catch {
          return run; // a patch that does not apply: keep the state we had (the next snapshot repairs it)
        }
      case EventType.RUN_FINISHED:
        return this.finished(run, ev);
      case EventType.RUN_ERROR: {
        const code = str(ev.code);
        return this.ended({ ...run, status: 'error', error: { message: str(ev.message) ?? '', ...(code ? { code } : {}) } });
      }
      default:
        this.notes.push(() => this.events.emit('event', { run: this.byId.get(run.runId) ?? run, event: ev }));
        return run;
    }
  }

  private message(run: RunView, ev: Ev, role: string): RunView {
    const id = str(ev.messageId);
    if (id === undefined || run.items.some((i) => i.kind === 'message' && i.id === id)) return run;
    return this.added(run, { kind: 'message', id, role, text: '', streaming: true });
  }

  private text(run: RunView, ev: Ev): RunView {
    const id = str(ev.messageId);
    if (id === undefined) return run;
    // Content before its START (a client that joined mid-message): open the message here.
    const reasoning = ev.type === EventType.REASONING_MESSAGE_CONTENT;
    if (!run.items.some((i) => i.kind === 'message' && i.id === id)) run = this.message(run, ev, reasoning ? 'reasoning' : str(ev.role) ?? 'assistant');
    let added = '';
    const next = this.update(run, `m:${id}`, (m: RunMessage) => {
      added = appendDelta(m.text, deltaOf(ev));
      return added === '' ? m : { ...m, text: m.text + added };
    });
    if (added !== '') {
      const message = next.items.find((i): i is RunMessage => i.kind === 'message' && i.id === id)!;
      this.notes.push(() => this.events.emit('text', { run: this.byId.get(run.runId) ?? next, message, added }));
    }
    return next;
  }

  private finished(run: RunView, ev: Ev): RunView {
    const outcome = (typeof ev.outcome === 'object' && ev.outcome !== null ? ev.outcome : {}) as { type?: string; interrupts?: Interrupt[] };
    let status: RunStatus = 'finished';
    let interrupts: PendingInterrupt[] = [];
    if (outcome.type === 'cancelled') status = 'cancelled';
    if (outcome.type === 'interrupt' && Array.isArray(outcome.interrupts)) {
      status = 'interrupted';
      interrupts = outcome.interrupts
        .filter((i) => typeof i?.id === 'string')
        .map((i) => ({ ...i, runId: run.runId, threadId: run.threadId, agent: run.agent }));
      for (const i of interrupts) this.notes.push(() => this.events.emit('interrupt', i));
    }
    return this.ended({ ...run, status, interrupts, ...('result' in ev ? { result: ev.result } : {}) });
  }

  /** The run is over: nothing streams any more. */
  private ended(run: RunView): RunView {
    const items = run.items.map((i) => (i.kind === 'message' && i.streaming ? { ...i, streaming: false } : i));
    const done = { ...run, items };
    this.notes.push(() => this.events.emit('ended', this.byId.get(run.runId) ?? done));
    return done;
  }

  /** The nearest run up the parentRunId chain holding this tool call. */
  private ancestorWith(run: RunView, toolCallId: unknown): RunView | undefined {
    const seen = new Set<string>();
    for (let r = run.parentRunId ? this.byId.get(run.parentRunId) : undefined; r && !seen.has(r.runId); r = r.parentRunId ? this.byId.get(r.parentRunId) : undefined) {
      seen.add(r.runId);
      if (r.items.some((i) => i.kind === 'tool' && i.id === toolCallId)) return r;
    }
    return undefined;
  }

  /** A continuation (RUN_STARTED with parentRunId) answers its parent's interrupts. */
  private continued(parentRunId: string): void {
    const parent = this.byId.get(parentRunId);
    if (parent && parent.interrupts.length > 0) this.commit({ ...parent, interrupts: [] });
  }

  private added(run: RunView, item: RunMessage | RunToolCall): RunView {
    const next = { ...run, items: [...run.items, item] };
    if (item.kind === 'tool') this.notes.push(() => this.events.emit('tool', { run: this.byId.get(run.runId) ?? next, toolCall: item }));
    return next;
  }

  /** Replace the item `key` (`m:<id>` / `t:<id>`) with `fn(item)`; unknown items are left alone. */
  private update<T extends RunMessage | RunToolCall>(run: RunView, key: string, fn: (item: T) => T, announce = false): RunView {
    const kind = key.startsWith('m:') ? 'message' : 'tool';
    const id = key.slice(2);
    const idx = run.items.findIndex((i) => i.kind === kind && i.id === id);
    if (idx < 0) return run;
    const before = run.items[idx] as T;
    const after = fn(before);
    if (after === before) return run;
    const items = run.items.slice();
    items[idx] = after;
    const next = { ...run, items };
    if (announce && after.kind === 'tool') this.notes.push(() => this.events.emit('tool', { run: this.byId.get(run.runId) ?? next, toolCall: after }));
    return next;
  }

  private commit(run: RunView): void {
    this.byId.set(run.runId, run);
    this.events.emit('update', run);
  }
}

function deltaOf(ev: Ev): { delta: string; offset?: number } {
  const delta = str(ev.delta) ?? '';
  return typeof ev.offset === 'number' ? { delta, offset: ev.offset } : { delta };
}

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((p: { type?: unknown; text?: unknown }) => (p?.type === 'text' && typeof p.text === 'string' ? p.text : '')).join('');
  }
  return JSON.stringify(content ?? null);
}
