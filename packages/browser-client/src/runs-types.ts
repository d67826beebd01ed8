/**
 * What an app sees of agent runs (PROTOCOL §9): replies assembled from AG-UI events. Plain data,
 * rebuilt on every change (a changed run is a new object), so a view can compare by identity.
 */
import type { Interrupt } from '@ag-ui/core';

export type RunStatus = 'running' | 'finished' | 'error' | 'cancelled' | 'interrupted';

/** A text or reasoning message of a run, as far as it has streamed. */
export interface RunMessage {
  kind: 'message';
  id: string;
  /** `assistant` (or another AG-UI role); `reasoning` for REASONING_* messages. */
  role: string;
  text: string;
  streaming: boolean;
}

export type ToolCallStatus = 'streaming' | 'called' | 'done';

export interface RunToolCall {
  kind: 'tool';
  id: string;
  name: string;
  /** The arguments' JSON text as far as it has streamed. */
  args: string;
  /** `streaming` while args arrive, `called` after TOOL_CALL_END, `done` once the result is in. */
  status: ToolCallStatus;
  result?: string;
  parentMessageId?: string;
}

/** An approval (or other question) the run waits for: answer it with `runs.answer(interrupt, value)`. */
export interface PendingInterrupt extends Interrupt {
  runId: string;
  threadId: string;
  /** The agent name that asked (the answer goes there). */
  agent: string;
}

export interface RunView {
  runId: string;
  threadId: string;
  /** The agent name that streams it (the frames' `from`). */
  agent: string;
  parentRunId?: string;
  status: RunStatus;
  /** Messages and tool calls in the order they started. */
  items: (RunMessage | RunToolCall)[];
  /** Latest STATE_SNAPSHOT with STATE_DELTA patches applied (undefined before any). */
  state?: unknown;
  /** Interrupts still waiting for an answer. */
  interrupts: PendingInterrupt[];
  error?: { message: string; code?: string };
  result?: unknown;
  /** Seq of the last frame applied. */
  lastSeq: number;
}

export interface RunEvents extends Record<string, unknown> {
  /** Any change to a run (the new view). */
  update: RunView;
  /** A run started (RUN_STARTED, or its first event). */
  started: RunView;
  /** A run ended (finished, error, cancelled, or interrupted: waiting for an answer). */
  ended: RunView;
  /** Text arrived: `added` is what the message gained (after the offset rule). */
  text: { run: RunView; message: RunMessage; added: string };
  tool: { run: RunView; toolCall: RunToolCall };
  /** The run asks the user (AG-UI interrupt outcome). */
  interrupt: PendingInterrupt;
  /** Any other event (CUSTOM, STEP_*, ACTIVITY_*, …) as it came, for apps that render more. */
  event: { run: RunView; event: Record<string, unknown> };
}
