/**
 * The `stream` scenario's model stand-in, shared by the three agents: each request gets a reply of
 * `tokens` fixed tokens at `rate` tokens/s (the first at once), all replies paced by one 1 ms
 * timer. The agent records when it handed each token to its transport (CLOCK_MONOTONIC µs, the
 * clock of every process), so the harness can take each token's delay from emission to arrival.
 *
 * How a token goes out is the sink's business: the SDK agent writes `run.text(token)` (batched
 * by the SDK, ≤ 1 frame per stream per 20 ms); the raw relay and Socket.IO agents send the same
 * AG-UI events the SDK would, one frame per token (no batching: the floor).
 */
import { randomUUID } from 'node:crypto';
import { nowUs } from '../histogram.ts';

/** What a client asks for: `{stream: StreamRequest}` as its message data. */
export interface StreamRequest {
  /** Names the reply in the agent's emission record (unique per run of the scenario). */
  key: string;
  tokens: number;
  /** Tokens per second. */
  rate: number;
  /** The SDK agent's batching window for this reply (default: the SDK's); the others never batch. */
  batchMs?: number;
}

/** Every token is this long (UTF-16 units), so a client can tell token i from its text length. */
export const TOKEN_UNITS = 4;
const WORDS = ['the ', 'and ', 'for ', 'you ', 'bit ', 'one ', 'two ', 'map '];
export const tokenText = (i: number): string => WORDS[i % WORDS.length]!;
/** The whole reply's text, to check what a client assembled. */
export const replyText = (tokens: number): string => Array.from({ length: tokens }, (_, i) => tokenText(i)).join('');

/** Hard bounds: a request can never make the agent loop or hold memory without end. */
const MAX_TOKENS = 100_000;
const MAX_LIVE = 10_000;
const MAX_RECORDS = 10_000;

export interface StreamSink {
  token(text: string): void;
  finish(): void;
}

interface Live {
  req: StreamRequest;
  sink: StreamSink;
  startMs: number;
  sent: number;
  emitted: number[];
}

export class Streamer {
  private live = new Set<Live>();
  private records = new Map<string, number[]>();
  private timer: NodeJS.Timeout | undefined;

  /** True when `data` is a stream request (checked before anything else an agent does with it). */
  static request(data: unknown): StreamRequest | undefined {
    const s = (data as { stream?: unknown } | null)?.stream as Partial<StreamRequest> | undefined;
    if (!s || typeof s.key !== 'string' || typeof s.tokens !== 'number' || typeof s.rate !== 'number') return undefined;
    if (!(s.tokens > 0 && s.tokens <= MAX_TOKENS && s.rate > 0)) return undefined;
    const batchMs = typeof s.batchMs === 'number' && s.batchMs >= 0 ? s.batchMs : undefined;
    return { key: s.key, tokens: Math.floor(s.tokens), rate: s.rate, ...(batchMs === undefined ? {} : { batchMs }) };
  }

  start(req: StreamRequest, sink: StreamSink): void {
    if (this.live.size >= MAX_LIVE || this.records.size >= MAX_RECORDS) return;
    const l: Live = { req, sink, startMs: performance.now(), sent: 0, emitted: [] };
    this.records.set(req.key, l.emitted);
    this.live.add(l);
    this.pump(l, l.startMs);
    this.timer ??= setTimeout(() => this.tick(), 1);
  }

  /** Emission times per key since the last call (then forgotten). */
  take(): Record<string, number[]> {
    const out = Object.fromEntries(this.records);
    this.records = new Map([...this.live].map((l) => [l.req.key, l.emitted]));
    return out;
  }

  private tick(): void {
    this.timer = undefined;
    const now = performance.now();
    for (const l of this.live) this.pump(l, now);
    if (this.live.size) this.timer = setTimeout(() => this.tick(), 1);
  }

  private pump(l: Live, now: number): void {
    const due = Math.min(l.req.tokens, 1 + Math.floor(((now - l.startMs) * l.req.rate) / 1000));
    while (l.sent < due) {
      l.emitted.push(Math.round(nowUs()));
      l.sink.token(tokenText(l.sent++));
    }
    if (l.sent >= l.req.tokens) {
      this.live.delete(l);
      l.sink.finish();
    }
  }
}

/**
 * The AG-UI events of one reply exactly as the SDK's run writer puts them on the wire (same
 * fields, same order, `offset` on every delta) but unbatched: what the comparators' agents send.
 */
export function agUiSink(send: (event: Record<string, unknown>) => void): StreamSink {
  const runId = randomUUID();
  const threadId = randomUUID();
  const messageId = randomUUID();
  let offset = 0;
  send({ type: 'RUN_STARTED', threadId, runId });
  send({ type: 'TEXT_MESSAGE_START', messageId, role: 'assistant', runId, threadId });
  return {
    token(delta) {
      send({ type: 'TEXT_MESSAGE_CONTENT', messageId, delta, offset, runId, threadId });
      offset += delta.length;
    },
    finish() {
      send({ type: 'TEXT_MESSAGE_END', messageId, runId, threadId });
      send({ type: 'RUN_FINISHED', threadId, runId, outcome: { type: 'success' } });
    },
  };
}
