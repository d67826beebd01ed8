/**
 * The client side of the `stream` scenario: each client asks the agent for one streamed reply
 * and records, per token, when its text was complete at the client (AG-UI deltas assembled with
 * the offset rule, so a merged or replayed frame after a resume adds only what is missing), plus
 * every frame and byte of the run. Some clients drop mid-reply and resume (where the target can):
 * they record when their new welcome came and whether it said `resumed:true`.
 */
import { appendDelta } from '@agent-bridge/common/protocol';
import { nowUs } from '../histogram.ts';
import { replyText, TOKEN_UNITS, type StreamRequest } from '../agents/streamer.ts';
import type { BenchClient } from './client.ts';

export interface StreamStartArgs {
  clients: number;
  tokens: number;
  rate: number;
  /** How many of the clients (the last ones) drop mid-reply and resume; 0 where drop() is missing. */
  reconnects: number;
  /** A reconnecting client drops once this many tokens arrived… */
  dropAtToken: number;
  /** …and dials again this long after. */
  awayMs: number;
  /** Passed on to the agent (the SDK's batching window; 0 = off). */
  batchMs?: number;
}

/** One client's view of its reply (times in µs on CLOCK_MONOTONIC, rounded). */
export interface StreamRecord {
  key: string;
  requestUs: number;
  /** arrivalsUs[i]: when token i's text was complete at the client. */
  arrivalsUs: number[];
  /** Frames of the run (every AG-UI event frame) and their WebSocket payload bytes. */
  frames: number;
  bytes: number;
  /** TEXT_MESSAGE_CONTENT frames only. */
  contentFrames: number;
  finished: boolean;
  /** The assembled text is exactly the reply the agent wrote. */
  textIntact: boolean;
  reconnect?: { droppedUs: number; welcomeUs: number | null; resumed: boolean | null };
}

interface State extends StreamRecord {
  text: string;
  dropAt: number | undefined;
}

const CONTENT = 'TEXT_MESSAGE_CONTENT';

export class StreamTracker {
  private states = new Map<BenchClient, State>();
  private run = 0;
  private expected = '';
  private awayMs = 0;

  /** Every client in `clients` asks for its reply now. Returns how many streams were started. */
  start(clients: BenchClient[], a: StreamStartArgs): { streams: number; reconnecting: number } {
    this.states.clear();
    this.run++;
    this.expected = replyText(a.tokens);
    this.awayMs = a.awayMs;
    const used = clients.slice(0, a.clients);
    const firstDropper = used.length - (used.some((c) => c.drop) ? Math.min(a.reconnects, used.length) : 0);
    used.forEach((c, i) => {
      const req: StreamRequest = { key: `${this.run}-${i}`, tokens: a.tokens, rate: a.rate, ...(a.batchMs === undefined ? {} : { batchMs: a.batchMs }) };
      const s: State = {
        key: req.key,
        requestUs: Math.round(nowUs()),
        arrivalsUs: [],
        frames: 0,
        bytes: 0,
        contentFrames: 0,
        finished: false,
        textIntact: false,
        text: '',
        dropAt: i >= firstDropper ? Math.min(a.dropAtToken, a.tokens - 1) : undefined,
      };
      this.states.set(c, s);
      c.send({ stream: req });
    });
    return { streams: used.length, reconnecting: used.length - firstDropper };
  }

  /** A run event for `client` (`data.type` is a string). */
  onEvent(client: BenchClient, data: { type: string; delta?: unknown; offset?: unknown }, bytes: number): void {
    const s = this.states.get(client);
    if (!s) return;
    const t = nowUs();
    s.frames++;
    s.bytes += bytes;
    if (data.type === CONTENT && typeof data.delta === 'string') {
      s.contentFrames++;
      s.text += appendDelta(s.text, { delta: data.delta, offset: typeof data.offset === 'number' ? data.offset : undefined });
      const complete = Math.floor(s.text.length / TOKEN_UNITS);
      while (s.arrivalsUs.length < complete) s.arrivalsUs.push(Math.round(t));
      if (s.dropAt !== undefined && !s.reconnect && s.arrivalsUs.length > s.dropAt && client.drop) {
        s.reconnect = { droppedUs: Math.round(t), welcomeUs: null, resumed: null };
        // Not from inside the socket's own message handler.
        setImmediate(() => client.drop!(this.awayMs));
      }
    } else if (data.type === 'RUN_FINISHED') {
      s.finished = true;
      s.textIntact = s.text === this.expected;
    }
  }

  /** `client` has a new welcome after its drop. */
  onReconnected(client: BenchClient, resumed: boolean): void {
    const r = this.states.get(client)?.reconnect;
    if (!r || r.welcomeUs !== null) return;
    r.welcomeUs = Math.round(nowUs());
    r.resumed = resumed;
  }

  status(): { streams: number; finished: number } {
    let finished = 0;
    for (const s of this.states.values()) if (s.finished) finished++;
    return { streams: this.states.size, finished };
  }

  /** Every stream's record (then forgotten). */
  results(): StreamRecord[] {
    const out = [...this.states.values()].map(({ text: _t, dropAt: _d, ...r }) => ({ ...r, textIntact: r.finished && _t === this.expected }));
    this.states.clear();
    return out;
  }
}
