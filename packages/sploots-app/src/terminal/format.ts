import { stripControlSequences } from '../ansi.ts';
import type { Entry } from '../store/entry.ts';

export const PROMPT_TEXT = 'sploots> ';
export const PROMPT = `\x1b[1;32m${PROMPT_TEXT}\x1b[0m`;

const DIM = '\x1b[2m';
const YELLOW = '\x1b[33m';
const RED = '\x1b[31m';
const CYAN = '\x1b[36m';
const RESET = '\x1b[0m';

/**
 * How a conversation entry looks in the terminal. Every text of an entry came from elsewhere (an
 * agent, another client's broadcast, the bridge, this browser's storage), so it is written as
 * plain text: control sequences are stripped and only the colours added here are rendered.
 */
export function formatEntry(e: Entry): string {
  const text = stripControlSequences(e.text);
  switch (e.kind) {
    case 'out':
      return `${DIM}${PROMPT_TEXT}${text}${RESET}`;
    case 'in':
      return e.from === 'default' ? text : `${CYAN}[${stripControlSequences(e.from)}]${RESET} ${text}`;
    case 'notice':
      return `${YELLOW}* ${text}${RESET}`;
    case 'error':
      return `${RED}! ${text}${RESET}`;
  }
}

export const BANNER = `${CYAN}Sploots${RESET} — talk to the agent. Type ${YELLOW}help${RESET} to see what it can do.`;
