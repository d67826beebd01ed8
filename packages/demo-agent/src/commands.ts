/**
 * The demo agent's brain: a pure function from one line of text to what to answer, so every
 * command is unit-testable without sockets. Replies may carry ANSI colours (the SPA renders
 * them) except `echo`, whose reply is exactly the text given.
 */

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

const bold = (s: string) => `\x1b[1m${s}\x1b[0m`;
const dim = (s: string) => `\x1b[2m${s}\x1b[0m`;

const COMMANDS: [string, string][] = [
  ['help', 'this list'],
  ['echo <text>', 'send <text> back'],
  ['time', 'the current time (ISO 8601, UTC)'],
  ['clients', 'how many clients are connected, and their ids'],
  ['whoami', 'your client id and wallet address'],
  ['broadcast <text>', 'send <text> to every connected client'],
];

export const HELP_TEXT = ['commands:', ...COMMANDS.map(([c, d]) => `  ${bold(c.padEnd(17))}${dim(d)}`)].join('\n');

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
  const { word, rest } = splitCommand(input);
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
      const connected = connectedClients();
      if (connected.length === 0) return { reply: '0 clients connected' };
      const lines = connected.map((c) => {
        const you = c.clientId === ctx.clientId ? ' (you)' : '';
        return `  ${c.clientId}${c.address ? ` ${c.address}` : ''}${you}`;
      });
      return { reply: [`${connected.length} ${connected.length === 1 ? 'client' : 'clients'} connected:`, ...lines].join('\n') };
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
