/** One row of a thread, subscribed to that row (and its run) only. */
import { lazy, memo, Suspense, useId } from 'react';
import type { RunMessage, RunView } from '@agent-bridge/browser-client';
import { stripAnsi } from '../ansi.ts';
import { useAsked, useRow, useRun } from '../store/context.tsx';
import { fromOf, type Row } from '../store/entry.ts';
import { ApprovalCard, ToolCard } from './cards.tsx';

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });

export const loadMarkdown = () => import('./Markdown.tsx');
const Markdown = lazy(loadMarkdown);

function Meta({ row }: { row: Row }) {
  const time = new Date(row.ts);
  return (
    <div className="msg-meta">
      <span className="msg-from">{fromOf(row)}</span>
      <time dateTime={time.toISOString()}>{timeFormat.format(time)}</time>
    </div>
  );
}

function RunText({ message }: { message: RunMessage }) {
  const text = stripAnsi(message.text);
  if (message.role === 'reasoning') {
    return (
      <details className="run-reasoning">
        <summary>Thinking{message.streaming ? '…' : ''}</summary>
        <div className="msg-plain">{text}</div>
      </details>
    );
  }
  return (
    <div className="msg-text" data-testid="run-text" data-message-id={message.id}>
      {/* Until the markdown chunk is here (first reply only), the text shows as it is. */}
      <Suspense fallback={<div className="md md-plain">{text}</div>}>
        <Markdown text={text} streaming={message.streaming} />
      </Suspense>
    </div>
  );
}

function RunBody({ run }: { run: RunView }) {
  const asked = useAsked(run.runId);
  return (
    <>
      {run.items.map((item) =>
        item.kind === 'message' ? <RunText key={`m-${item.id}`} message={item} /> : <ToolCard key={`t-${item.id}`} call={item} runStatus={run.status} />,
      )}
      {run.status === 'running' && run.items.length === 0 && (
        <div className="typing">
          <span aria-hidden="true">●●●</span>
          <span className="sr-only">The agent is replying</span>
        </div>
      )}
      {asked?.map((i) => (
        <ApprovalCard key={i.id} interrupt={i} />
      ))}
      {run.status === 'cancelled' && <p className="run-note">Stopped.</p>}
      {run.status === 'error' && <p className="run-note run-error">Error: {run.error?.message || 'the run failed'}</p>}
    </>
  );
}

function RunRow({ row }: { row: Extract<Row, { kind: 'run' }> }) {
  const run = useRun(row.runId);
  const labelId = useId();
  if (!run) return null;
  const streaming = run.status === 'running';
  return (
    <article
      className={`msg msg-in msg-run${streaming ? ' msg-streaming' : ''}`}
      data-kind="run"
      data-run-id={run.runId}
      data-status={run.status}
      data-testid="run"
      aria-busy={streaming}
      aria-labelledby={labelId}
    >
      <div id={labelId}>
        <Meta row={row} />
      </div>
      <RunBody run={run} />
    </article>
  );
}

export const MessageRow = memo(function MessageRow({ id }: { id: string }) {
  const row = useRow(id);
  if (!row) return null;
  if (row.kind === 'run') return <RunRow row={row} />;
  return (
    <article className={`msg msg-${row.kind}`} data-kind={row.kind} aria-label={row.kind === 'notice' ? undefined : `From ${fromOf(row)}`}>
      <Meta row={row} />
      <div className="msg-text">{stripAnsi(row.text)}</div>
    </article>
  );
});
