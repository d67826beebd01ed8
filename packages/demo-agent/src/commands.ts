/**
 * The demo agent's brain: a pure function from one line of text to what to answer, so every
 * command is unit-testable without sockets. Replies are plain text: the agent sends no escape
 * sequences of its own, and every text a client typed (echo, broadcast, the unknown-command hint)
 * is passed through `plainText` first, so no client can clear another's screen, retitle its
 * window or draw a fake prompt through us (issue 9). `echo` replies exactly the text given, less
 * control characters.
 */
import { RUN_COMMANDS, helpLine } from './run-commands.ts';

export interface CommandClient {
  clientId: string;
  address: string | null;
  connected: boolean;
}

export interface CommandContext {
  clientId: string;
  address: string | null;
  /** Clients the agent knows (connected or away); `clients` and `broadcast` count the connected ones. */
  clients: readonly CommandClient[];
  now: Date;
}

export interface CommandResult {
  /** Text for the asking client. */
  reply?: string;
  /** Text for every client. */
  broadcast?: string;
}

/**
 * Terminal control sequences a remote text must not carry: whole escape sequences first (OSC,
 * DCS, SOS, PM and APC strings up to their terminator, or to the end when unterminated, since a
 * terminal would swallow what follows; CSI; other ESC sequences; their 8-bit C1 forms), then
 * any remaining C0/C1 control character except tab and newline (so `\r` cannot rewrite a line).
 */
const CONTROL_SEQUENCES =
  /(?:\x1b[\]PX^_]|[\x90\x98\x9d-\x9f])[\s\S]*?(?:\x07|\x1b\\|\x9c|$)|(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?|\x1b[\x20-\x2f]*[\x30-\x7e]?|[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

/** `text` without terminal control sequences or control characters (tab and newline stay). */
export function plainText(text: string): string {
  return text.replace(CONTROL_SEQUENCES, '');
}

const COMMANDS: [string, string][] = [
  ['help', 'this list'],
  ['echo <text>', 'send <text> back'],
  ['time', 'the current time (ISO 8601, UTC)'],
  ['clients', 'how many clients are connected (a count only: no one is shown the ids or wallets of others)'],
  ['whoami', 'your client id and wallet address'],
  ['broadcast <text>', 'send <text> to every connected client'],
  ...RUN_COMMANDS,
];

export const HELP_TEXT = ['commands:', ...COMMANDS.map(helpLine)].join('\n');

/** Said when the input is not a command we know. */
export function unknownCommandHint(word: string): string {
  const shown = word.length > 40 ? `${word.slice(0, 40)}…` : word;
  return word ? `unknown command "${shown}" — type help to see what I can do` : 'say something! type help to see what I can do';
}

/** Said when the message data is neither a string nor `{text: string}`. */
export const NOT_TEXT_HINT = 'I only understand text: send {"text":"help"} (or a plain string) and type help to see what I can do';

/** The text of a client message's `data`: a plain string or `{text: string}`; else undefined. */
export function textOf(data: unknown): string | undefined {
  if (typeof data === 'string') return data;
  if (data !== null && typeof data === 'object' && !Array.isArray(data)) {
    const text = (data as { text?: unknown }).text;
    if (typeof text === 'string') return text;
  }
  return undefined;
}

/** Split `"ECHO  hello  world "` into `echo` and `hello  world` (inner spacing kept). */
function splitCommand(input: string): { word: string; rest: string } {
  const trimmed = input.trim();
  const m = /^(\S+)(?:\s+([\s\S]*))?$/.exec(trimmed);
  if (!m) return { word: '', rest: '' };
  return { word: m[1]!.toLowerCase(), rest: m[2] ?? '' };
}

export function handleCommand(input: string, ctx: CommandContext): CommandResult {
  // Everything below may be shown to this client or (broadcast) to all of them.
  const { word, rest } = splitCommand(plainText(input));
  // Only `clients` and `broadcast` look at the client list: echo (the common case) must not pay for it.
  const connectedClients = () => ctx.clients.filter((c) => c.connected);
  switch (word) {
    case 'help':
      return { reply: HELP_TEXT };
    case 'echo':
      return rest ? { reply: rest } : { reply: 'usage: echo <text>' };
    case 'time':
      return { reply: ctx.now.toISOString() };
    case 'clients': {
      // A count and the asker's own id, for everyone: listing other sessions' ids and wallets
      // told any anonymous visitor who else is here (issue 9), and no command needs them.
      const n = connectedClients().length;
      return { reply: `${n} ${n === 1 ? 'client' : 'clients'} connected (you are ${ctx.clientId})` };
    }
    case 'whoami':
      return {
        reply: `clientId: ${ctx.clientId}\n${ctx.address ? `address: ${ctx.address}` : 'anonymous — sign in with Ethereum to link a wallet'}`,
      };
    case 'broadcast':
      if (!rest) return { reply: 'usage: broadcast <text>' };
      return { broadcast: rest, reply: `broadcast sent to ${connectedClients().length} clients` };
    default:
      return { reply: unknownCommandHint(word) };
  }
}

/** A client message's `data` → what to answer (a friendly hint when it is not text). */
export function handleMessage(data: unknown, ctx: CommandContext): CommandResult {
  const text = textOf(data);
  return text === undefined ? { reply: NOT_TEXT_HINT } : handleCommand(text, ctx);
}

/** Greeting for a client that just proved its wallet. */
export function greeting(address: string): string {
  return `welcome, ${address}`;
}
