/**
 * Demo commands that answer as streamed runs (issue 14, PROTOCOL §9), with no model and no
 * network: a long story typed out at a readable pace, a fake tool call with streamed arguments
 * and a result, an action that asks for approval, and a friendly streamed answer for plain text
 * that is no command. Written against the SDK's run writer, so they exercise all of it: batching,
 * Stop (the run's signal), interrupts and their answers.
 *
 * agent.ts calls `handleRunMessage(agent, msg)` first for each message (it returns undefined for
 * anything else, which the classic commands then answer); `help` lists RUN_COMMANDS.
 */
import type { Agent, RunWriter } from '@agent-bridge/agent-sdk';
import { HELP_TEXT, plainText, textOf } from './commands.ts';
import { RUN_COMMANDS, helpLine } from './run-commands.ts';

export { RUN_COMMANDS };

/** Lines for `help`, in its format. */
export const RUN_HELP_LINES = RUN_COMMANDS.map(helpLine);

export interface RunPace {
  /** Pause between streamed words (ms). Default 45: readable, and visibly streaming. */
  wordMs?: number;
  /** Pause standing in for a tool's work (ms). Default 600. */
  toolMs?: number;
  /** How long an approval may wait (ms). Default 120000. */
  approvalMs?: number;
}

export type RunRequest =
  | { kind: 'story' }
  | { kind: 'weather'; city: string }
  | { kind: 'transfer'; amount: number }
  | { kind: 'chat'; text: string }
  | { kind: 'usage'; text: string };

/** The agent's part a run needs (an SDK Agent; tests pass their own). */
export type RunAgent = Pick<Agent, 'run'>;

/**
 * The words the classic commands (commands.ts) answer, read from its help so the two never drift.
 * Computed on first use: runs.ts and commands.ts import each other, and HELP_TEXT may not exist
 * yet while this module is evaluated.
 */
let classicWords: Set<string> | undefined;
const isClassic = (word: string): boolean =>
  (classicWords ??= new Set(
    HELP_TEXT.split('\n')
      .slice(1)
      .map((l) => l.trim().split(/\s+/)[0]!.toLowerCase()),
  )).has(word);

/**
 * What run, if any, a message's data asks for: one of the run commands, or `chat` for plain text
 * that is no command at all (classic commands stay with commands.ts; non-text data too).
 */
export function runRequestFor(data: unknown): RunRequest | undefined {
  const raw = textOf(data);
  if (raw === undefined) return undefined;
  const text = plainText(raw).trim();
  if (text === '') return undefined;
  const [word = '', ...rest] = text.split(/\s+/);
  const arg = rest.join(' ');
  switch (word.toLowerCase()) {
    case 'story':
      return { kind: 'story' };
    case 'weather':
      return arg ? { kind: 'weather', city: arg.slice(0, 60) } : { kind: 'usage', text: 'usage: weather <city>, e.g. weather Oslo' };
    case 'transfer': {
      const amount = Number(arg);
      return Number.isFinite(amount) && amount > 0 && amount <= 1e9
        ? { kind: 'transfer', amount }
        : { kind: 'usage', text: 'usage: transfer <amount>, a positive number, e.g. transfer 5' };
    }
    default:
      return isClassic(word.toLowerCase()) ? undefined : { kind: 'chat', text: text.slice(0, 200) };
  }
}

/**
 * The hook for agent.ts: when the message asks for a run, start it (to that client, one thread per
 * client) and return its promise; otherwise undefined and the classic handler answers.
 */
export function handleRunMessage(
  agent: RunAgent,
  msg: { clientId: string; data: unknown; _meta?: Record<string, unknown> | undefined },
  pace: RunPace = {},
): Promise<void> | undefined {
  const req = runRequestFor(msg.data);
  if (!req) return undefined;
  // The message itself as the target: the run's frames carry its trace context (§11).
  const run = agent.run({ clientId: msg.clientId, _meta: msg._meta }, { threadId: `demo-${msg.clientId}` });
  return performRun(run, req, pace).catch((err: unknown) => {
    // A send failing (outbox full while the broker is away) must not become an unhandled rejection.
    try {
      run.error(err instanceof Error ? err.message : String(err), 'demo_failed');
    } catch {
      /* the run cannot even report it: nothing more to do */
    }
  });
}

export async function performRun(run: RunWriter, req: RunRequest, pace: RunPace = {}): Promise<void> {
  const p = { wordMs: pace.wordMs ?? 45, toolMs: pace.toolMs ?? 600, approvalMs: pace.approvalMs ?? 120_000 };
  switch (req.kind) {
    case 'story':
      await type(run, STORY, p.wordMs);
      break;
    case 'usage':
      run.text(req.text);
      break;
    case 'chat':
      await type(run, chatAnswer(req.text), p.wordMs);
      break;
    case 'weather':
      await weather(run, req.city, p);
      break;
    case 'transfer':
      await transfer(run, req.amount, p);
      return; // transfer finishes (or not) itself: an aborted approval leaves nothing to finish
  }
  run.finish();
}

/** Stream `text` word by word (spaces kept with their word), stopping at once on cancel. */
async function type(run: RunWriter, text: string, wordMs: number): Promise<void> {
  for (const word of text.match(/\S+\s*|\s+/g) ?? []) {
    if (run.done) return;
    run.text(word);
    await pause(wordMs, run.signal);
  }
}

async function weather(run: RunWriter, city: string, p: Required<RunPace>): Promise<void> {
  await type(run, `Let me look up the weather in ${city}. `, p.wordMs);
  const tool = run.toolCall('get_weather');
  const args = JSON.stringify({ city, units: 'metric' });
  // Arguments stream in pieces, as a model writes them.
  for (let i = 0; i < args.length; i += 4) {
    tool.args(args.slice(i, i + 4));
    await pause(p.wordMs / 2, run.signal);
  }
  tool.end();
  await pause(p.toolMs, run.signal);
  const forecast = fakeForecast(city);
  tool.result(forecast);
  await type(run, `\n\nIn ${city} it is ${forecast.tempC} °C and ${forecast.sky} (made up: I have no network).`, p.wordMs);
}

async function transfer(run: RunWriter, amount: number, p: Required<RunPace>): Promise<void> {
  await type(run, `I would send ${amount} sploot coins to the treasury. `, p.wordMs);
  const tool = run.toolCall('transfer', { amount, to: 'treasury' });
  const answer = await run.interrupt({
    message: `Send ${amount} sploot coins to the treasury?`,
    toolCallId: tool.toolCallId,
    responseSchema: { type: 'object', properties: { approved: { type: 'boolean' } }, required: ['approved'] },
    timeoutMs: p.approvalMs,
  });
  if (answer.status === 'aborted') return;
  const approved = answer.status === 'resolved' && (answer.payload as { approved?: unknown } | null)?.approved === true;
  if (approved) {
    const by = answer.address ?? `client ${answer.clientId}`;
    tool.result({ ok: true, amount, approvedBy: by });
    await type(run, `Done: ${amount} coins sent (pretend), approved by ${by}.`, p.wordMs);
  } else {
    tool.result({ ok: false, reason: answer.status === 'timeout' ? 'no answer' : 'denied' });
    await type(run, answer.status === 'timeout' ? 'Nobody answered, so I sent nothing.' : 'Okay, I sent nothing.', p.wordMs);
  }
  run.finish();
}

export function chatAnswer(text: string): string {
  const said = text.length > 80 ? `${text.slice(0, 80)}…` : text;
  return (
    `Hi! I am the demo agent: no model behind me, so I cannot really answer “${said}”. ` +
    'But I can show you how replies stream: try story for a long one, weather Oslo for a tool call, ' +
    'transfer 5 to approve an action, or help for everything else.'
  );
}

/** A stable fake forecast (the same city always gets the same weather). */
export function fakeForecast(city: string): { city: string; tempC: number; sky: string } {
  let h = 0;
  for (const ch of city.toLowerCase()) h = (h * 31 + ch.codePointAt(0)!) >>> 0;
  const skies = ['sunny', 'cloudy', 'rainy', 'windy', 'foggy', 'snowy'];
  return { city, tempC: (h % 35) - 5, sky: skies[h % skies.length]! };
}

/** Resolves after `ms`, or at once when the run is cancelled. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

export const STORY = `The Bridge of Many Messages

Once upon a time, in a valley full of humming servers, there was a little bridge. It was not a bridge of stone or rope: it was a bridge of messages. Every day, agents on one side sent words across it to the people on the other side, one token at a time.

The bridge had a secret. It remembered. When a traveller's connection wobbled in the wind and fell into the river, the bridge kept every word that had been sent while they were gone, numbered and in order. When the traveller climbed back up, they only had to say the last number they had heard, and the bridge handed them the rest, exactly, not a letter missing and not a letter twice.

One evening an agent began a very long tale, ten thousand words long. A traveller listened for a while, then closed the lid of their laptop and went to make tea. The bridge did not panic. It folded the waiting words together, neatly, like a map, so that the whole tale still fitted in its pockets.

When the traveller came back, the story was there, continuing mid-sentence as if nothing had happened. And when they had heard enough, they pressed Stop, and the agent, politely, stopped.

The end.`;
