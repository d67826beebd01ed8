import type { Entry } from '../store/entry.ts';

export const PROMPT_TEXT = 'sploots> ';
export const PROMPT = `\x1b[1;32m${PROMPT_TEXT}\x1b[0m`;

const DIM = '\x1b[2m';
const YELLOW = '\x1b[33m';
const RED = '\x1b[31m';
const CYAN = '\x1b[36m';
const RESET = '\x1b[0m';

/** How a conversation entry looks in the terminal (agent text keeps its own colours). */
export function formatEntry(e: Entry): string {
  switch (e.kind) {
    case 'out':
      return `${DIM}${PROMPT_TEXT}${e.text}${RESET}`;
    case 'in':
      return e.from === 'default' ? e.text + RESET : `${CYAN}[${e.from}]${RESET} ${e.text}${RESET}`;
    case 'notice':
      return `${YELLOW}* ${e.text}${RESET}`;
    case 'error':
      return `${RED}! ${e.text}${RESET}`;
  }
}

export const BANNER = `${CYAN}Sploots${RESET} — talk to the agent. Type ${YELLOW}help${RESET} to see what it can do.`;
