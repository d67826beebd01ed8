/**
 * The agent's live runs, so that what the bridge delivers for a run finds it: a `client.cancel`
 * aborts the run's signal, and a client `message` answering a pending interrupt (an AG-UI
 * `RunAgentInput` with `resume`, docs/protocol.md "Agent runs") resolves the writer's await
 * instead of reaching `message` listeners.
 */
import type { ResumeEntry } from '@ag-ui/core';
import type { ClientCancelToAgentFrame, ClientMessageToAgentFrame } from '@agent-bridge/common/protocol';

export interface InterruptReply {
  interruptId: string;
  status: ResumeEntry['status'];
  payload: unknown;
  /** The run id the client chose for the continuation (AG-UI: the resuming RunAgentInput's runId). */
  runId: string | undefined;
  clientId: string;
  /** The answering client's wallet address (null when anonymous). */
  address: string | null;
}

export interface LiveRun {
  /** Clients the run streams to: only they may cancel it or answer its interrupts. */
  readonly clients: ReadonlySet<string>;
  abort(reason: { clientId: string; address: string | null }): void;
  /** Interrupt ids this run awaits, with who to tell. */
  readonly waiting: Map<string, (reply: InterruptReply) => void>;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export class RunRegistry {
  private readonly runs = new Map<string, LiveRun>();

  add(runId: string, run: LiveRun): void {
    this.runs.set(runId, run);
  }

  delete(runId: string, run: LiveRun): void {
    if (this.runs.get(runId) === run) this.runs.delete(runId);
  }

  has(runId: string): boolean {
    return this.runs.has(runId);
  }

  /** A `client.cancel`: true when it aborted a run of this agent. */
  onCancel(frame: ClientCancelToAgentFrame): boolean {
    const run = this.runs.get(frame.runId);
    if (!run?.clients.has(frame.clientId)) return false;
    run.abort({ clientId: frame.clientId, address: frame.address });
    return true;
  }

  /** A `client.message`: true when it answered a pending interrupt (and is consumed here). */
  onMessage(frame: ClientMessageToAgentFrame): boolean {
    const data = frame.data;
    if (!isRecord(data) || !Array.isArray(data.resume)) return false;
    let consumed = false;
    for (const entry of data.resume) {
      if (!isRecord(entry) || typeof entry.interruptId !== 'string') continue;
      if (entry.status !== 'resolved' && entry.status !== 'cancelled') continue;
      for (const run of this.runs.values()) {
        const resolve = run.waiting.get(entry.interruptId);
        if (!resolve || !run.clients.has(frame.clientId)) continue;
        run.waiting.delete(entry.interruptId);
        consumed = true;
        resolve({
          interruptId: entry.interruptId,
          status: entry.status,
          payload: entry.payload,
          runId: typeof data.runId === 'string' && data.runId.length > 0 ? data.runId : undefined,
          clientId: frame.clientId,
          address: frame.address,
        });
        break;
      }
    }
    return consumed;
  }
}
