/**
 * `agent.run(…)`: a writer for one streamed reply (PROTOCOL §9). It speaks AG-UI 1.0 events
 * (`@ag-ui/core`), each sent as the `data` of an ordinary `send` with `runId`/`threadId`, so the
 * reply is seq'd and resumable like any message, and any AG-UI front end can render it.
 *
 *   const run = agent.run(msg, { threadId });
 *   for await (const token of model(msg.data, { signal: run.signal })) run.text(token);
 *   run.finish();
 *
 * Text, reasoning and tool-argument deltas are batched (run-sender.ts). The writer opens and closes
 * messages itself: text() after a tool call starts a new assistant message, finish() ends whatever
 * is open. Once the run has ended (finish, error, cancel) every method is a no-op, so a model loop
 * that does not watch `signal` simply stops producing output.
 */
import { randomUUID } from 'node:crypto';
import { EventType, type Interrupt, type JsonPatch, type ResumeEntry } from '@ag-ui/core';
import type { ClientMessageToAgentFrame } from '@agent-bridge/common/protocol';
import type { InterruptReply, LiveRun, RunRegistry } from './run-registry.ts';
import { DEFAULT_BATCH_MS, DEFAULT_MAX_BATCH_UNITS, RunSender, type RunEvent } from './run-sender.ts';

/** Who a run streams to: a clientId, several, the `client.message` it answers, or an explicit request. */
/** A client message as the target: the run answers its client and carries its `_meta` (trace context, §11). */
export type RunTarget = string | string[] | Pick<ClientMessageToAgentFrame, 'clientId' | '_meta'> | { to: string | string[] };

export interface RunOptions {
  /** AG-UI thread the run belongs to (a conversation). Default: a new UUID. */
  threadId?: string;
  /** Default: a new UUID. */
  runId?: string;
  /** The run this one continues (AG-UI `parentRunId`). */
  parentRunId?: string;
  /** Batching window per stream in ms (≤ 1 frame per stream per window). Default 20; 0 = no batching. */
  batchMs?: number;
  /** A pending delta of this many UTF-16 units is sent at once. Default 8192. */
  maxBatchUnits?: number;
  /** Send RUN_STARTED now (default). The AG-UI adapter passes false: its source sends its own. */
  announce?: boolean;
}

export interface InterruptOptions {
  /** Machine-readable reason (AG-UI `Interrupt.reason`), e.g. `approval`. Default `approval`. */
  reason?: string;
  /** What the user is asked, for the approval card. */
  message?: string;
  /** The tool call awaiting approval, if any. */
  toolCallId?: string;
  /** JSON Schema of the expected `payload`. */
  responseSchema?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  /** Give up after this long (the continuation then starts with status `timeout`). Default 600000. */
  timeoutMs?: number;
  /** Default: a new UUID. */
  id?: string;
}

/**
 * How an interrupt ended. `resolved` / `cancelled`: the client answered (AG-UI `ResumeEntry`
 * status; `payload` is its answer, e.g. `{approved:true}`). `timeout`: nobody answered in time.
 * `aborted`: the run was cancelled (or ended) while waiting; the writer is closed.
 */
export type InterruptAnswer =
  | { status: ResumeEntry['status']; payload: unknown; clientId: string; address: string | null; interruptId: string }
  | { status: 'timeout'; interruptId: string }
  | { status: 'aborted'; interruptId: string };

export interface ToolCallWriter {
  readonly toolCallId: string;
  /** Stream more of the arguments (JSON text). */
  args(delta: string): void;
  /** The arguments are complete (TOOL_CALL_END); implied by result(). */
  end(): void;
  /** The tool's result (TOOL_CALL_RESULT; a string, or any JSON value, sent as JSON text). */
  result(content: unknown): void;
}

/** The bits of an Agent a run needs (kept narrow so tests and adapters can supply their own). */
export interface RunHost {
  send(to: string | string[], data: unknown, opts?: { _meta?: Record<string, unknown> }): string;
  readonly runs: RunRegistry;
}

const isPatch = (v: unknown): v is JsonPatch =>
  Array.isArray(v) && v.length > 0 && v.every((op) => typeof op === 'object' && op !== null && typeof op.op === 'string' && typeof op.path === 'string');

function recipients(target: RunTarget): string[] {
  if (typeof target === 'string') return [target];
  if (Array.isArray(target)) return target;
  if ('to' in target) return typeof target.to === 'string' ? [target.to] : target.to;
  return [target.clientId];
}

export class RunWriter {
  private runIdValue: string;
  readonly threadId: string;
  private readonly controller = new AbortController();
  private readonly sender: RunSender;
  private readonly live: LiveRun;
  private readonly to: string | string[];
  private textId: string | undefined;
  private reasoningId: string | undefined;
  private readonly openTools = new Set<string>();
  private ended = false;

  constructor(
    private readonly host: RunHost,
    target: RunTarget,
    opts: RunOptions = {},
  ) {
    const clients = recipients(target);
    this.to = clients.length === 1 ? clients[0]! : clients;
    this.runIdValue = opts.runId ?? randomUUID();
    this.threadId = opts.threadId ?? randomUUID();
    // A run answering a message carries that message's trace context on every frame (§11).
    const meta = typeof target === 'object' && !Array.isArray(target) && '_meta' in target ? target._meta : undefined;
    this.sender = new RunSender((data) => host.send(this.to, data, meta === undefined ? undefined : { _meta: meta }), { runId: this.runIdValue, threadId: this.threadId }, {
      batchMs: opts.batchMs ?? DEFAULT_BATCH_MS,
      maxBatchUnits: opts.maxBatchUnits ?? DEFAULT_MAX_BATCH_UNITS,
    });
    this.live = {
      clients: new Set(clients),
      waiting: new Map(),
      abort: (by) => this.controller.abort(Object.assign(new Error('the client cancelled the run'), { name: 'AbortError', ...by })),
    };
    host.runs.add(this.runIdValue, this.live);
    // A cancel ends the run at once, for every viewer, even if the model loop is slow to notice.
    this.controller.signal.addEventListener('abort', () => this.endCancelled(), { once: true });
    if (opts.announce !== false) {
      this.sender.event({
        type: EventType.RUN_STARTED,
        threadId: this.threadId,
        runId: this.runIdValue,
        ...(opts.parentRunId === undefined ? {} : { parentRunId: opts.parentRunId }),
      });
    }
  }

  /** The current run id (a new one after an interrupt was answered: AG-UI continues in a new run). */
  get runId(): string {
    return this.runIdValue;
  }

  /** Fires when a client of the run sends `cancel` for it (its reason carries clientId/address). */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** True once finish(), error() or a cancel ended the run. */
  get done(): boolean {
    return this.ended;
  }

  /** Stream assistant text (a TEXT_MESSAGE_START comes first when no message is open). */
  text(delta: string): void {
    if (this.ended) return;
    this.endReasoning();
    if (this.textId === undefined) {
      this.textId = randomUUID();
      this.sender.event({ type: EventType.TEXT_MESSAGE_START, messageId: this.textId, role: 'assistant' });
    }
    this.sender.delta({ type: EventType.TEXT_MESSAGE_CONTENT, messageId: this.textId, delta });
  }

  /** Close the open text message, so the next text() starts a new one. */
  endText(): void {
    if (this.textId === undefined) return;
    this.sender.event({ type: EventType.TEXT_MESSAGE_END, messageId: this.textId });
    this.textId = undefined;
  }

  /** Stream reasoning ("thinking") text: AG-UI 1.0 REASONING_* events. */
  reasoning(delta: string): void {
    if (this.ended) return;
    this.endText();
    if (this.reasoningId === undefined) {
      this.reasoningId = randomUUID();
      this.sender.event({ type: EventType.REASONING_START, messageId: this.reasoningId });
      this.sender.event({ type: EventType.REASONING_MESSAGE_START, messageId: this.reasoningId, role: 'reasoning' });
    }
    this.sender.delta({ type: EventType.REASONING_MESSAGE_CONTENT, messageId: this.reasoningId, delta });
  }

  /**
   * Start a tool call. With `args` (an object, or JSON text) the arguments go at once and the call
   * is ended; without, stream them with args(delta) and then end() or result().
   */
  toolCall(name: string, args?: unknown, opts: { toolCallId?: string } = {}): ToolCallWriter {
    const toolCallId = opts.toolCallId ?? randomUUID();
    const parentMessageId = this.textId;
    const writer: ToolCallWriter = {
      toolCallId,
      args: (delta) => {
        if (this.ended || !this.openTools.has(toolCallId)) return;
        this.sender.delta({ type: EventType.TOOL_CALL_ARGS, toolCallId, delta });
      },
      end: () => {
        if (this.ended || !this.openTools.delete(toolCallId)) return;
        this.sender.event({ type: EventType.TOOL_CALL_END, toolCallId });
      },
      result: (content) => {
        if (this.ended) return;
        writer.end();
        this.sender.event({
          type: EventType.TOOL_CALL_RESULT,
          messageId: randomUUID(),
          toolCallId,
          content: typeof content === 'string' ? content : JSON.stringify(content),
          role: 'tool',
        });
      },
    };
    if (this.ended) return writer;
    this.endText();
    this.endReasoning();
    this.openTools.add(toolCallId);
    this.sender.event({
      type: EventType.TOOL_CALL_START,
      toolCallId,
      toolCallName: name,
      ...(parentMessageId === undefined ? {} : { parentMessageId }),
    });
    if (args !== undefined) {
      writer.args(typeof args === 'string' ? args : JSON.stringify(args));
      writer.end();
    }
    return writer;
  }

  /** A JSON Patch (RFC 6902 operations) is sent as STATE_DELTA, anything else as STATE_SNAPSHOT. */
  state(snapshotOrPatch: unknown): void {
    if (this.ended) return;
    if (isPatch(snapshotOrPatch)) this.sender.event({ type: EventType.STATE_DELTA, delta: snapshotOrPatch });
    else this.sender.event({ type: EventType.STATE_SNAPSHOT, snapshot: snapshotOrPatch });
  }

  /** An application event (AG-UI CUSTOM). */
  custom(name: string, value: unknown): void {
    if (!this.ended) this.sender.event({ type: EventType.CUSTOM, name, value });
  }

  /**
   * Any AG-UI event as is (stamped with runId/threadId; deltas batched). A RUN_STARTED with
   * another runId rebinds the writer to it; RUN_FINISHED / RUN_ERROR end the run.
   */
  emit(event: RunEvent): void {
    if (this.ended) return;
    switch (event.type) {
      case EventType.RUN_STARTED:
        if (typeof event.runId === 'string' && event.runId !== this.runIdValue) this.rebind(event.runId);
        this.sender.event(event);
        return;
      case EventType.RUN_FINISHED:
      case EventType.RUN_ERROR:
        this.sender.event(event);
        this.close();
        return;
      case EventType.TEXT_MESSAGE_CONTENT:
      case EventType.TOOL_CALL_ARGS:
      case EventType.REASONING_MESSAGE_CONTENT:
        if (typeof event.delta === 'string') return this.sender.delta(event as RunEvent & { delta: string });
        break;
    }
    this.track(event);
    this.sender.event(event);
  }

  /** What an emitted source has open, so a cancel can close it as for the writer's own. */
  private track(event: RunEvent): void {
    const id = (field: string) => (typeof event[field] === 'string' ? (event[field] as string) : undefined);
    switch (event.type) {
      case EventType.TEXT_MESSAGE_START:
        this.textId = id('messageId');
        break;
      case EventType.TEXT_MESSAGE_END:
        if (this.textId === id('messageId')) this.textId = undefined;
        break;
      case EventType.REASONING_START:
        this.reasoningId = id('messageId');
        break;
      case EventType.REASONING_END:
        if (this.reasoningId === id('messageId')) this.reasoningId = undefined;
        break;
      case EventType.TOOL_CALL_START:
        if (id('toolCallId') !== undefined) this.openTools.add(id('toolCallId')!);
        break;
      case EventType.TOOL_CALL_END:
        this.openTools.delete(id('toolCallId') ?? '');
        break;
    }
  }

  /**
   * Ask the client (an approval) and wait for its answer — AG-UI 1.0 human-in-the-loop: the run
   * ends with RUN_FINISHED `outcome: {type:"interrupt", interrupts:[…]}`; the client answers with
   * a RunAgentInput whose `resume` names the interrupt; the reply continues in a new run
   * (RUN_STARTED with the client's runId and `parentRunId` = this one). After a timeout the SDK
   * starts that continuation itself. A cancel while waiting closes the writer (`aborted`).
   */
  async interrupt(opts: InterruptOptions = {}): Promise<InterruptAnswer> {
    const id = opts.id ?? randomUUID();
    if (this.ended) return { status: 'aborted', interruptId: id };
    const timeoutMs = opts.timeoutMs ?? 600_000;
    const interrupt: Interrupt = {
      id,
      reason: opts.reason ?? 'approval',
      expiresAt: new Date(Date.now() + timeoutMs).toISOString(),
      ...(opts.message === undefined ? {} : { message: opts.message }),
      ...(opts.toolCallId === undefined ? {} : { toolCallId: opts.toolCallId }),
      ...(opts.responseSchema === undefined ? {} : { responseSchema: opts.responseSchema }),
      ...(opts.metadata === undefined ? {} : { metadata: opts.metadata }),
    };
    this.closeOpen();
    this.sender.event({
      type: EventType.RUN_FINISHED,
      threadId: this.threadId,
      runId: this.runIdValue,
      outcome: { type: 'interrupt', interrupts: [interrupt] },
    });
    const reply = await new Promise<InterruptReply | 'timeout' | 'aborted'>((resolve) => {
      const timer = setTimeout(() => done('timeout'), timeoutMs);
      const onAbort = () => done('aborted');
      const done = (r: InterruptReply | 'timeout' | 'aborted') => {
        clearTimeout(timer);
        this.live.waiting.delete(id);
        this.controller.signal.removeEventListener('abort', onAbort);
        resolve(r);
      };
      this.live.waiting.set(id, done);
      this.controller.signal.addEventListener('abort', onAbort, { once: true });
    });
    if (reply === 'aborted' || this.ended) return { status: 'aborted', interruptId: id };
    // Continue in a new run, as AG-UI resumes do: the client's runId unless it is already taken.
    const wanted = reply === 'timeout' ? undefined : reply.runId;
    const parentRunId = this.runIdValue;
    this.rebind(wanted !== undefined && !this.host.runs.has(wanted) ? wanted : randomUUID());
    this.sender.event({ type: EventType.RUN_STARTED, threadId: this.threadId, runId: this.runIdValue, parentRunId });
    if (reply === 'timeout') return { status: 'timeout', interruptId: id };
    return { status: reply.status, payload: reply.payload, clientId: reply.clientId, address: reply.address, interruptId: id };
  }

  /** End the run successfully (RUN_FINISHED), closing whatever is open. */
  finish(result?: unknown): void {
    if (this.ended) return;
    this.closeOpen();
    this.sender.event({
      type: EventType.RUN_FINISHED,
      threadId: this.threadId,
      runId: this.runIdValue,
      outcome: { type: 'success' },
      ...(result === undefined ? {} : { result }),
    });
    this.close();
  }

  /** End the run with RUN_ERROR. */
  error(message: string, code?: string): void {
    if (this.ended) return;
    this.closeOpen();
    this.sender.event({ type: EventType.RUN_ERROR, message, ...(code === undefined ? {} : { code }) });
    this.close();
  }

  private endReasoning(): void {
    if (this.reasoningId === undefined) return;
    this.sender.event({ type: EventType.REASONING_MESSAGE_END, messageId: this.reasoningId });
    this.sender.event({ type: EventType.REASONING_END, messageId: this.reasoningId });
    this.reasoningId = undefined;
  }

  private closeOpen(): void {
    this.endText();
    this.endReasoning();
    for (const toolCallId of this.openTools) this.sender.event({ type: EventType.TOOL_CALL_END, toolCallId });
    this.openTools.clear();
    this.sender.flush();
  }

  private endCancelled(): void {
    if (this.ended) return;
    // Whatever was still batched is not wanted any more; the ends keep the client's view well-formed.
    this.sender.discard();
    try {
      // While an interrupt waits the run has already finished: nothing more to say.
      if (this.live.waiting.size === 0) {
        this.closeOpen();
        this.sender.event({ type: EventType.RUN_FINISHED, threadId: this.threadId, runId: this.runIdValue, outcome: { type: 'cancelled' } });
      }
    } finally {
      this.close();
    }
  }

  private rebind(runId: string): void {
    this.host.runs.delete(this.runIdValue, this.live);
    this.runIdValue = runId;
    this.host.runs.add(runId, this.live);
    this.sender.rebind({ runId, threadId: this.threadId });
  }

  private close(): void {
    this.ended = true;
    this.sender.flush();
    this.host.runs.delete(this.runIdValue, this.live);
  }
}
