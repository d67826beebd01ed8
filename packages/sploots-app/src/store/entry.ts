/** One line of the conversation, as both the terminal and the chat show it. */
export interface Entry {
  /** Unique key: our `c-<n>` id, the bridge's message id, or a local one for notices. */
  key: string;
  kind: 'out' | 'in' | 'notice' | 'error';
  /** `you`, the agent name, or `bridge`. */
  from: string;
  /** Raw text; may contain ANSI colour codes for `in` entries. */
  text: string;
  /** ms since epoch. */
  ts: number;
  /** Which view sent an `out` entry (the terminal has already echoed its own). */
  via?: 'terminal' | 'chat';
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
