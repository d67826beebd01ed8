/**
 * Stream any AG-UI event source to a client through the bridge, in a few lines:
 *
 *   agent.on('message', (msg) => streamAgUi(agent, msg, new HttpAgent({ url }), { threadId: msg.clientId }));
 *
 * The source is an async iterable of AG-UI events, or anything with AG-UI's
 * `run(input): Observable<BaseEvent>` (an `@ag-ui/client` AbstractAgent / HttpAgent). Events go
 * out through a RunWriter (batched deltas, runId/threadId on every event); a `cancel` from the
 * client stops the source (iterator return / unsubscribe + abortRun) and ends the run with
 * RUN_FINISHED `outcome: cancelled`. A source that stops without ending its run gets RUN_ERROR.
 */
import { randomUUID } from 'node:crypto';
import type { BaseEvent, RunAgentInput } from '@ag-ui/core';
import { RunWriter, type RunHost, type RunTarget } from './run.ts';
import type { RunEvent } from './run-sender.ts';

/** The part of an `@ag-ui/client` AbstractAgent this needs (its Observable's subscribe). */
export interface AgUiRunnable {
  run(input: RunAgentInput): {
    subscribe(observer: { next: (e: BaseEvent) => void; error: (err: unknown) => void; complete: () => void }): { unsubscribe(): void };
  };
  abortRun?(): void;
}

export type AgUiSource = AsyncIterable<BaseEvent> | AgUiRunnable;

export interface StreamAgUiOptions {
  threadId?: string;
  runId?: string;
  /** For an AbstractAgent source: the rest of its RunAgentInput (messages, tools, context, state …). */
  input?: Partial<RunAgentInput>;
  batchMs?: number;
  /** Also stop when this aborts (e.g. the agent shutting down). */
  signal?: AbortSignal;
}

export interface StreamAgUiResult {
  runId: string;
  threadId: string;
  /** Events taken from the source. */
  events: number;
  cancelled: boolean;
}

const isRunnable = (s: AgUiSource): s is AgUiRunnable => typeof (s as AgUiRunnable).run === 'function';

export async function streamAgUi(host: RunHost, to: RunTarget, source: AgUiSource, opts: StreamAgUiOptions = {}): Promise<StreamAgUiResult> {
  const threadId = opts.threadId ?? opts.input?.threadId ?? randomUUID();
  const runId = opts.runId ?? opts.input?.runId ?? randomUUID();
  const run = new RunWriter(host, to, { threadId, runId, announce: false, ...(opts.batchMs === undefined ? {} : { batchMs: opts.batchMs }) });
  let events = 0;
  const stop = new AbortController();
  const onStop = () => stop.abort();
  run.signal.addEventListener('abort', onStop, { once: true });
  opts.signal?.addEventListener('abort', onStop, { once: true });
  const take = (e: BaseEvent) => {
    events++;
    run.emit(e as unknown as RunEvent);
  };
  try {
    if (isRunnable(source)) {
      const input: RunAgentInput = { messages: [], tools: [], context: [], state: {}, forwardedProps: {}, ...opts.input, threadId, runId };
      await new Promise<void>((resolve, reject) => {
        const sub = source.run(input).subscribe({ next: take, error: reject, complete: resolve });
        stop.signal.addEventListener(
          'abort',
          () => {
            sub.unsubscribe();
            source.abortRun?.();
            resolve();
          },
          { once: true },
        );
      });
    } else {
      const it = source[Symbol.asyncIterator]();
      const stopped = new Promise<'stopped'>((resolve) => stop.signal.addEventListener('abort', () => resolve('stopped'), { once: true }));
      for (;;) {
        const next = await Promise.race([it.next(), stopped]);
        if (next === 'stopped') {
          // Do not await: a generator blocked in its own await only returns once that settles.
          void it.return?.()?.catch?.(() => undefined);
          break;
        }
        if (next.done) break;
        take(next.value);
      }
    }
    if (!run.done && !stop.signal.aborted) run.error('the AG-UI source ended without finishing its run', 'source_ended');
  } catch (err) {
    run.error(err instanceof Error ? err.message : String(err), 'source_failed');
  } finally {
    opts.signal?.removeEventListener('abort', onStop);
    // An outside stop (not the client's cancel) still ends the run for the client.
    if (!run.done) run.error('the run was stopped', 'stopped');
  }
  return { runId: run.runId, threadId, events, cancelled: run.signal.aborted };
}
