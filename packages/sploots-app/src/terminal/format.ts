import { DEFAULT_AGENT } from '@agent-bridge/common/protocol';
import { stripControlSequences } from '../ansi.ts';
import type { Row } from '../store/entry.ts';

export const PROMPT_TEXT = 'sploots> ';
export const PROMPT = `\x1b[1;32m${PROMPT_TEXT}\x1b[0m`;

const DIM = '\x1b[2m';
const YELLOW = '\x1b[33m';
const RED = '\x1b[31m';
const CYAN = '\x1b[36m';
const MAGENTA = '\x1b[35m';
const RESET = '\x1b[0m';

/** `[name] ` before what an agent other than the default one says. */
export function agentPrefix(agent: string): string {
  return agent === DEFAULT_AGENT ? '' : `${CYAN}[${stripControlSequences(agent)}]${RESET} `;
}

/**
 * How a conversation row looks in the terminal (runs are streamed, see TerminalView). Every text
 * of a row came from elsewhere (an agent, another client's broadcast, the bridge, this browser's
 * storage), so it is written as plain text: control sequences are stripped and only the colours
 * added here are rendered.
 */
export function formatRow(r: Exclude<Row, { kind: 'run' }>): string {
  const text = stripControlSequences(r.text);
  switch (r.kind) {
    case 'out':
      return `${DIM}${PROMPT_TEXT}${text}${RESET}`;
    case 'in':
      return agentPrefix(r.agent) + text;
    case 'notice':
      return `${YELLOW}* ${text}${RESET}`;
    case 'error':
      return `${RED}! ${text}${RESET}`;
  }
}

export function formatToolCall(name: string, args: string): string {
  return `${MAGENTA}⚙ ${stripControlSequences(name)}${RESET} ${DIM}${stripControlSequences(args)}${RESET}`;
}

export function formatToolResult(result: string): string {
  return `${DIM}  → ${stripControlSequences(result)}${RESET}`;
}

export function formatQuestion(message: string): string {
  return `${YELLOW}? ${stripControlSequences(message)}${RESET} — type ${YELLOW}y${RESET} to approve or ${YELLOW}n${RESET} to deny`;
}

export const STOPPED = `${DIM}(stopped)${RESET}`;
export const formatRunError = (message: string): string => `${RED}! ${stripControlSequences(message)}${RESET}`;

export const BANNER = `${CYAN}Sploots${RESET} — talk to the agent. Type ${YELLOW}help${RESET} to see what it can do, ${YELLOW}story${RESET} for a streamed reply; Ctrl+C stops it.`;
