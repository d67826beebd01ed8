/**
 * What the terminal writes for the conversation: every row once, and runs as they stream — text
 * continues on its line above the prompt, tool calls and their results get a line each, an
 * approval asks for y/n, and Ctrl+C stops the active run (a §9 cancel).
 */
import type { PendingInterrupt, RunView } from '@agent-bridge/browser-client';
import { stripControlSequences } from '../ansi.ts';
import type { ConversationStore } from '../store/conversation.ts';
import { agentPrefix, formatQuestion, formatRow, formatRunError, formatToolCall, formatToolResult, STOPPED } from './format.ts';

/** The part of the LineEditor the feed writes through. */
export interface FeedEditor {
  printAbove(text: string): void;
  streamAbove(text: string): void;
  endStream(): void;
}

interface Printed {
  /** Characters of each message's (stripped) text written so far. */
  text: Map<string, number>;
  /** Tool calls whose call line / result line is written. */
  called: Set<string>;
  resulted: Set<string>;
  asked: Set<string>;
  ended: boolean;
}

const YES = /^\s*(y|yes|approve)\s*$/i;
const NO = /^\s*(n|no|deny)\s*$/i;

export function terminalFeed(conversation: ConversationStore, editor: () => FeedEditor, clear: () => void) {
  const shown = new Set<string>();
  const printed = new Map<string, Printed>();
  const lastRun = new Map<string, RunView>();
  /** `runId/messageId` of the line being streamed, if any. */
  let streaming: string | undefined;
  let order: readonly string[] | undefined;

  const print = (line: string) => {
    streaming = undefined;
    editor().printAbove(line);
  };

  const renderRun = (run: RunView) => {
    let p = printed.get(run.runId);
    if (!p) printed.set(run.runId, (p = { text: new Map(), called: new Set(), resulted: new Set(), asked: new Set(), ended: false }));
    for (const item of run.items) {
      if (item.kind === 'message') {
        if (item.role === 'reasoning') continue;
        const text = stripControlSequences(item.text);
        const done = p.text.get(item.id) ?? 0;
        if (text.length <= done) continue;
        const key = `${run.runId}/${item.id}`;
        if (streaming !== key) {
          editor().endStream();
          streaming = key;
        }
        editor().streamAbove((done === 0 ? agentPrefix(run.agent) : '') + text.slice(done));
        p.text.set(item.id, text.length);
      } else {
        if (item.status !== 'streaming' && !p.called.has(item.id)) {
          p.called.add(item.id);
          print(formatToolCall(item.name, item.args));
        }
        if (item.result !== undefined && !p.resulted.has(item.id)) {
          p.called.add(item.id);
          p.resulted.add(item.id);
          print(formatToolResult(item.result));
        }
      }
    }
    for (const i of conversation.askedBy(run.runId) ?? []) {
      if (p.asked.has(i.id)) continue;
      p.asked.add(i.id);
      if (conversation.isPending(i)) print(formatQuestion(typeof i.message === 'string' && i.message ? i.message : 'Approve?'));
    }
    if (run.status !== 'running' && !p.ended) {
      p.ended = true;
      if (streaming?.startsWith(`${run.runId}/`)) {
        editor().endStream();
        streaming = undefined;
      }
      if (run.status === 'cancelled') print(STOPPED);
      if (run.status === 'error') print(formatRunError(run.error?.message || 'the run failed'));
    }
  };

  /** Write what is new since the last call (`initial`: the history at start-up). */
  const render = (_initial: boolean) => {
    const ids = conversation.allIds();
    if (ids !== order) {
      order = ids;
      for (const id of ids) {
        if (shown.has(id)) continue;
        shown.add(id);
        const row = conversation.row(id);
        if (!row) continue;
        if (row.kind === 'run') {
          const run = conversation.run(row.runId);
          if (run) {
            lastRun.set(run.runId, run);
            renderRun(run);
          }
          continue;
        }
        // Lines typed here were echoed as they were typed.
        if (row.kind === 'out' && row.via === 'terminal' && !_initial) continue;
        print(formatRow(row));
      }
    }
    for (const [runId, before] of lastRun) {
      const run = conversation.run(runId);
      if (!run || run === before) continue;
      lastRun.set(runId, run);
      renderRun(run);
      if (run.status !== 'running' && run.interrupts.length === 0) lastRun.delete(runId);
    }
  };

  /** The newest interrupt still waiting for an answer. */
  const pendingQuestion = (): PendingInterrupt | undefined => conversation.runs.pendingInterrupts().at(-1);

  const onLine = (line: string) => {
    if (line.trim() === 'clear') {
      clear();
      return;
    }
    const q = pendingQuestion();
    if (q && (YES.test(line) || NO.test(line))) {
      conversation.answer(q, YES.test(line));
      return;
    }
    shown.add(conversation.send(line, 'terminal'));
  };

  /** Ctrl+C: stop the newest streaming run. */
  const onInterrupt = () => {
    const active = [...conversation.runs.runs.values()].filter((r) => r.status === 'running');
    const newest = active.at(-1);
    if (newest) conversation.stop(newest.agent);
  };

  const history = conversation
    .allIds()
    .map((id) => conversation.row(id))
    .filter((r) => r?.kind === 'out')
    .map((r) => stripControlSequences((r as { text: string }).text));

  return { render, onLine, onInterrupt, history };
}
