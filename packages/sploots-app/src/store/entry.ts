/**
 * One row of the conversation, as both the terminal and the chat show it. Rows are kept by id and
 * in one order; a run's row points at its RunView (kept by the RunModel), so a streamed token
 * changes that run and nothing else.
 */
export type Row =
  /** A line the person sent: `id` is the frame's `c-<n>` id. */
  | { id: string; kind: 'out'; agent: string; text: string; ts: number; via?: 'terminal' | 'chat' }
  /** A whole (non-run) message from an agent: `id` is `m-<message id>`. */
  | { id: string; kind: 'in'; agent: string; text: string; ts: number }
  /** A note from the bridge; `agent` null shows it in every thread. */
  | { id: string; kind: 'notice' | 'error'; agent: string | null; text: string; ts: number }
  /** An agent run (PROTOCOL §9): `id` is `run-<runId>`. */
  | { id: string; kind: 'run'; agent: string; runId: string; ts: number };

export type RowKind = Row['kind'];

/** Who a row is from, as a label. */
export function fromOf(row: Row): string {
  if (row.kind === 'out') return 'you';
  if (row.kind === 'in' || row.kind === 'run') return row.agent;
  return 'bridge';
}

/** Agents may send any JSON value; show text as text and anything else as JSON. */
export function textOf(data: unknown): string {
  if (typeof data === 'string') return data;
  if (data && typeof data === 'object' && typeof (data as { text?: unknown }).text === 'string') {
    return (data as { text: string }).text;
  }
  try {
    return JSON.stringify(data);
  } catch {
    return String(data);
  }
}
