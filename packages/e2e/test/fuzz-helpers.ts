/**
 * Shared pieces of the fuzz suites (fuzz-*.test.ts): fast-check arbitraries for frames and their
 * mutations, an attacker socket that checks every frame's answer, and a bystander that measures
 * its echo round trip through a real agent meanwhile. Every run uses a fixed seed (FUZZ_SEED
 * overrides it) that fast-check prints with any counterexample, so a failure replays exactly.
 */
import fc from 'fast-check';
import WebSocket from 'ws';
import type { RawResponse } from '@agent-bridge/testkit';
import { AgentInboundFrame, ClientFrame, ERROR_CODES, HttpErrorCode, parseFrame, type ErrorCode } from '@agent-bridge/common';

export const FUZZ_SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : 0x0a6e_b41d;

/** Options for fc.assert: fixed seed, bounded runs and time, no shrinking against a live server. */
export function fuzzParams(numRuns: number, timeLimitMs: number): fc.Parameters<unknown> {
  return { seed: FUZZ_SEED, numRuns, interruptAfterTimeLimit: timeLimitMs, markInterruptAsFailure: false, endOnFailure: true };
}

/** Every code an `error` frame may carry, except `internal`. */
export const FRAME_CODES = new Set<string>(ERROR_CODES.filter((c) => c !== 'internal'));
/** Every code an HTTP error body may carry, except `internal`. */
export const HTTP_CODES = new Set<string>([...FRAME_CODES, ...Object.keys(HttpErrorCode)]);
/** Codes that refuse a frame before it is parsed (budgets and rate limits). */
const REFUSALS = new Set<string>(['rate_limited', 'over_capacity']);

// ---------------------------------------------------------------- arbitraries

/** Values a field should never hold: wrong types, extreme numbers, odd strings, deep nesting. */
export const weirdValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, -0, 1.5, 2 ** 53 + 1, 1e308, -1e308, 5e-324, Number.MAX_SAFE_INTEGER),
  fc.double(),
  fc.integer(),
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', 'x'.repeat(129), '__proto__', 'constructor', '\u0000', '\ud800', '🦀'.repeat(40), 'message', 'send', 'a b'),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 5 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
  // Objects only as deep as JSON.stringify can take here; deeper nesting is made as text (`nest`).
  fc.integer({ min: 1, max: 1000 }).map(deepValue),
);

/** `[[[…]]]` or `{"a":{"a":…}}` nested `depth` levels. */
export function deepValue(depth: number): unknown {
  let v: unknown = depth % 2 ? [] : 0;
  for (let i = 0; i < depth; i++) v = depth % 2 ? [v] : { a: v };
  return v;
}

const anyData = fc.oneof({ weight: 4, arbitrary: fc.jsonValue({ maxDepth: 4 }) }, { weight: 1, arbitrary: weirdValue });
const refArb = fc.oneof(fc.string({ minLength: 1, maxLength: 16 }), fc.constantFrom('x'.repeat(128), 'x'.repeat(129)));

export function validClientFrame(agentNames: string[]): fc.Arbitrary<Record<string, unknown>> {
  return fc.oneof(
    fc.record(
      {
        type: fc.constant('message'),
        id: refArb,
        agent: fc.oneof(fc.constantFrom(...agentNames), fc.stringMatching(/^[A-Za-z0-9._-]{1,64}$/)),
        data: anyData,
      },
      { requiredKeys: ['type', 'data'] },
    ),
    fc.record({ type: fc.constant('ack'), seq: fc.oneof(fc.nat(), fc.constantFrom(0, 2 ** 53 - 1, 1e300)) }),
  );
}

export function validAgentFrame(clientIds: string[]): fc.Arbitrary<Record<string, unknown>> {
  const id = fc.oneof(fc.constantFrom(...clientIds), fc.uuid(), fc.string({ minLength: 1, maxLength: 128 }));
  return fc.oneof(
    fc.record(
      { type: fc.constant('send'), id: refArb, to: fc.oneof(id, fc.array(id, { minLength: 1, maxLength: 5 })), data: anyData },
      { requiredKeys: ['type', 'to', 'data'] },
    ),
    fc.record(
      { type: fc.constant('broadcast'), id: refArb, data: anyData, except: fc.array(id, { maxLength: 5 }) },
      { requiredKeys: ['type', 'data'] },
    ),
    // §8: an ack naming nothing this (not opted-in) connection holds: ignored, no error.
    fc.record({ type: fc.constant('ack'), id: fc.string({ minLength: 1, maxLength: 128 }) }),
  );
}

const FIELD_NAMES = ['type', 'id', 'agent', 'data', 'seq', 'to', 'except', 'ref', '__proto__', 'constructor', 'clientIds', '_meta'];

type ObjectMutation =
  | { op: 'set'; key: string; value: unknown }
  | { op: 'delete'; key: string }
  | { op: 'type'; value: string }
  | { op: 'deep'; depth: number };

/** One change to a valid frame object: a field set to a weird value, removed, or a new type. */
const objectMutation: fc.Arbitrary<ObjectMutation> = fc.oneof(
  fc.record({ op: fc.constant('set' as const), key: fc.oneof(fc.constantFrom(...FIELD_NAMES), fc.string({ maxLength: 6 })), value: weirdValue }),
  fc.record({ op: fc.constant('delete' as const), key: fc.constantFrom(...FIELD_NAMES) }),
  fc.record({
    op: fc.constant('type' as const),
    value: fc.oneof(
      fc.constantFrom('message', 'ack', 'send', 'broadcast', 'welcome', 'client.message', 'system', 'error', 'cancel', 'MESSAGE', ' message', ''),
      fc.string({ maxLength: 12 }),
    ),
  }),
  fc.record({ op: fc.constant('deep' as const), depth: fc.integer({ min: 60, max: 1000 }) }),
);

function mutateObject(frame: Record<string, unknown>, m: ObjectMutation): Record<string, unknown> {
  const f: Record<string, unknown> = { ...frame };
  switch (m.op) {
    case 'set':
      // defineProperty: a "__proto__" key becomes an own field of the JSON text, as an attacker would write it.
      Object.defineProperty(f, m.key, { value: m.value, enumerable: true, configurable: true, writable: true });
      break;
    case 'delete':
      delete f[m.key];
      break;
    case 'type':
      f.type = m.value;
      break;
    case 'deep':
      f.data = deepValue(m.depth);
      break;
  }
  return f;
}

const HUGE_NUMBERS = ['1e400', '-1e400', '123456789012345678901234567890', '1e-400', '-0', '9007199254740993', '0.1e1', '1E+2'];

type TextMutation =
  | { op: 'none' }
  | { op: 'cut'; at: number }
  | { op: 'insert'; at: number; text: string }
  | { op: 'number'; literal: string }
  | { op: 'nest'; depth: number; open: '[' | '{"a":' }
  | { op: 'wrap'; how: 'array' | 'bom' | 'twice' | 'trailing' | 'spaces' | 'nul' };

/** One change to the text: cut it, insert a byte, swap a number for a huge literal, wrap it… */
const textMutation: fc.Arbitrary<TextMutation> = fc.oneof(
  { weight: 10, arbitrary: fc.constant({ op: 'none' as const }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('cut' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('insert' as const), at: fc.nat(), text: fc.string({ unit: 'binary', minLength: 1, maxLength: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('number' as const), literal: fc.constantFrom(...HUGE_NUMBERS) }) },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('nest' as const), depth: fc.integer({ min: 50, max: 8000 }), open: fc.constantFrom('[' as const, '{"a":' as const) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('wrap' as const), how: fc.constantFrom('array' as const, 'bom' as const, 'twice' as const, 'trailing' as const, 'spaces' as const, 'nul' as const) }),
  },
);

function mutateText(text: string, m: TextMutation): string {
  switch (m.op) {
    case 'none':
      return text;
    case 'cut':
      return text.slice(0, m.at % (text.length + 1));
    case 'insert': {
      const at = m.at % (text.length + 1);
      return text.slice(0, at) + m.text + text.slice(at);
    }
    case 'number':
      // Every number literal (outside strings, roughly) becomes the huge one; if none, add a field.
      return /:(-?\d[\d.eE+-]*)/.test(text) ? text.replace(/:(-?\d[\d.eE+-]*)/g, `:${m.literal}`) : text.replace(/}$/, `,"seq":${m.literal}}`);
    case 'nest': {
      // A last "data" field (JSON.parse keeps the last of duplicate keys), nested as text.
      const close = m.open === '[' ? ']' : '}';
      const leaf = m.open === '[' ? '' : '1';
      return text.replace(/}\s*$/, `,"data":${m.open.repeat(m.depth)}${leaf}${close.repeat(m.depth)}}`);
    }
    case 'wrap':
      switch (m.how) {
        case 'array':
          return `[${text}]`;
        case 'bom':
          return `\ufeff${text}`;
        case 'twice':
          return text + text;
        case 'trailing':
          return `${text},`;
        case 'spaces':
          return ` \n\t${text}\r\n `;
        case 'nul':
          return `${text}\u0000`;
      }
  }
}

export type FuzzFrame = { kind: 'text'; text: string } | { kind: 'binary'; bytes: Uint8Array };

/** Random and mutated frames: valid ones changed in one field and/or in their text, garbage, binary. */
export function fuzzFrames(valid: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<FuzzFrame> {
  const mutated = fc
    .tuple(valid, fc.option(objectMutation, { freq: 3 }), textMutation)
    .map(([frame, om, tm]) => mutateText(JSON.stringify(om ? mutateObject(frame, om) : frame), tm));
  const text = fc.oneof(
    { weight: 8, arbitrary: mutated },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 120 }) },
    { weight: 1, arbitrary: fc.json({ maxDepth: 3 }) },
    { weight: 1, arbitrary: fc.constantFrom('', 'null', '[]', '{}', '"x"', '{"type":null}', '{"type":"message"', 'NaN', '{"type":"message","data":1}{') },
  );
  return fc.oneof(
    { weight: 12, arbitrary: text.map((t): FuzzFrame => ({ kind: 'text', text: t })) },
    {
      weight: 1,
      arbitrary: fc
        .oneof(fc.uint8Array({ maxLength: 64 }), valid.map((f) => new TextEncoder().encode(JSON.stringify(f))))
        .map((bytes): FuzzFrame => ({ kind: 'binary', bytes })),
    },
  );
}

// ---------------------------------------------------------------- the attacker socket

export interface FrameLike {
  type: string;
  code?: string;
  ref?: string;
  [k: string]: unknown;
}

/** What the bridge must answer to one fuzz frame, by the shared parser's verdict. */
export function expectedVerdict(frame: FuzzFrame, side: 'client' | 'agent'): { ok: true } | { ok: false; code: ErrorCode; ref?: string } {
  if (frame.kind === 'binary') return { ok: false, code: 'invalid_json' };
  // Agents may also send the §8 `ack` (ignored without an error when it names nothing).
  const r = parseFrame(frame.text, side === 'client' ? ClientFrame : AgentInboundFrame);
  return r.ok ? { ok: true } : { ok: false, code: r.code, ...(r.ref === undefined ? {} : { ref: r.ref }) };
}

/**
 * An attacker's socket. `check(frame)` sends it followed by a probe frame the bridge must refuse
 * with `invalid_message` and the probe's ref; frames are handled in order, so everything the fuzz
 * frame caused has arrived by then. It returns the `error` frames seen in between.
 */
export class Attacker {
  private ws!: WebSocket;
  private inbox: FrameLike[] = [];
  private wake: (() => void) | undefined;
  private probes = 0;
  readonly errors: FrameLike[] = [];
  readonly closes: number[] = [];

  constructor(
    private readonly dial: () => WebSocket,
    private readonly probe: (ref: string) => string,
  ) {}

  async open(): Promise<void> {
    this.ws = this.dial();
    this.inbox = [];
    this.ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      try {
        this.inbox.push(JSON.parse(data.toString()) as FrameLike);
      } catch {
        this.inbox.push({ type: '__unparseable__' });
      }
      this.wake?.();
    });
    this.ws.on('close', (code) => {
      this.closes.push(code);
      this.wake?.();
    });
    this.ws.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`attacker upgrade refused: ${res.statusCode}`)));
      this.ws.once('error', reject);
    });
    await this.until((f) => f.type === 'welcome', 5000);
  }

  /** Fuzz frames checked so far. */
  get checked(): number {
    return this.probes;
  }

  get socket(): WebSocket {
    return this.ws;
  }

  /** Send one fuzz frame and its probe; the error frames the fuzz frame got. */
  async check(frame: FuzzFrame, timeoutMs = 5000): Promise<FrameLike[]> {
    if (this.ws.readyState !== WebSocket.OPEN) await this.open();
    const ref = `pr0be-${++this.probes}`;
    if (frame.kind === 'binary') this.ws.send(frame.bytes, { binary: true });
    else this.ws.send(frame.text);
    this.ws.send(this.probe(ref));
    const before: FrameLike[] = [];
    await this.until((f) => {
      if (f.type === 'error' && f.ref === ref) return true;
      if (f.type === 'error') before.push(f);
      return false;
    }, timeoutMs);
    this.errors.push(...before);
    return before;
  }

  /** Take frames from the inbox until `pred` holds; throws on timeout or close. */
  private async until(pred: (f: FrameLike) => boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const closesBefore = this.closes.length;
    for (;;) {
      while (this.inbox.length) if (pred(this.inbox.shift()!)) return;
      if (this.closes.length > closesBefore || this.ws.readyState === WebSocket.CLOSED) {
        throw new Error(`attacker socket closed (${this.closes.at(-1)}) before the probe was answered`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('no answer to the probe in time: the bridge stopped answering');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(t);
          this.wake = undefined;
          resolve();
        };
      });
    }
  }

  close(): void {
    this.ws?.terminate();
  }
}

/**
 * The checks on one fuzz frame's answers: no `internal`, only documented codes, and a bad frame
 * (by the shared parser) gets its own code (or a refusal before parsing); a good one no parse error.
 */
export function assertAnswered(frame: FuzzFrame, side: 'client' | 'agent', errors: FrameLike[]): void {
  for (const e of errors) {
    if (e.code === 'internal' || !FRAME_CODES.has(String(e.code))) {
      throw new Error(`answered ${JSON.stringify(e)} to ${describe(frame)}`);
    }
  }
  const verdict = expectedVerdict(frame, side);
  if (!verdict.ok) {
    const answered = errors.some((e) => (e.code === verdict.code && (verdict.ref === undefined || e.ref === verdict.ref)) || REFUSALS.has(String(e.code)));
    if (!answered) throw new Error(`no ${verdict.code} error for ${describe(frame)}; got ${JSON.stringify(errors)}`);
  } else {
    const parseError = errors.find((e) => e.code === 'invalid_json' || e.code === 'invalid_message');
    if (parseError) throw new Error(`a valid frame was refused: ${JSON.stringify(parseError)} for ${describe(frame)}`);
  }
}

/** How many errors of each code (for the run's summary line). */
export function codeCounts(errors: FrameLike[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const e of errors) counts[String(e.code)] = (counts[String(e.code)] ?? 0) + 1;
  return counts;
}

export function describe(frame: FuzzFrame): string {
  const s = frame.kind === 'binary' ? `binary ${Buffer.from(frame.bytes).toString('hex')}` : JSON.stringify(frame.text);
  return s.length > 300 ? `${s.slice(0, 300)}… (${s.length} chars)` : s;
}

// ---------------------------------------------------------------- the bystander

/**
 * A well-behaved client asking a real agent (the demo agent) to echo, one message at a time, for
 * as long as it runs: every round trip is timed; none may be lost.
 */
export class Bystander {
  readonly rtts: number[] = [];
  private running = false;
  private loop: Promise<void> | undefined;
  private pending: { text: string; resolve: () => void } | undefined;
  failure: Error | undefined;

  constructor(
    private readonly ws: WebSocket,
    private readonly gapMs = 20,
  ) {
    ws.on('message', (data) => {
      let f: { type?: string; data?: { text?: unknown } };
      try {
        f = JSON.parse(data.toString());
      } catch {
        return;
      }
      if (f.type === 'message' && this.pending && f.data?.text === this.pending.text) this.pending.resolve();
    });
  }

  start(timeoutMs: number): void {
    this.running = true;
    this.loop = (async () => {
      for (let n = 1; this.running; n++) {
        const text = `bystander ${n}`;
        const t0 = performance.now();
        const answered = new Promise<void>((resolve) => (this.pending = { text, resolve }));
        this.ws.send(JSON.stringify({ type: 'message', id: `b-${n}`, data: { text: `echo ${text}` } }));
        const timedOut = await Promise.race([answered.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), timeoutMs))]);
        if (timedOut) {
          this.failure = new Error(`the bystander's echo ${n} got no answer within ${timeoutMs} ms`);
          return;
        }
        this.rtts.push(performance.now() - t0);
        await new Promise((r) => setTimeout(r, this.gapMs));
      }
    })();
  }

  async stop(): Promise<{ count: number; p50: number; max: number }> {
    this.running = false;
    await this.loop;
    const sorted = [...this.rtts].sort((a, b) => a - b);
    return { count: sorted.length, p50: sorted[Math.floor(sorted.length / 2)] ?? NaN, max: sorted.at(-1) ?? NaN };
  }
}

/** Lines of a service's log that carry a stack trace (pino's err serializer writes `"stack"`). */
export function stackLines(logs: string): string[] {
  return logs.split('\n').filter((l) => l.includes('"stack"') || /\n\s+at /.test(l) || /^\s+at .+:\d+:\d+\)?$/.test(l));
}

// ---------------------------------------------------------------- raw HTTP

/** Percent-encode every UTF-8 byte of `s` (lone surrogates too, unlike encodeURIComponent). */
export function pct(s: string): string {
  return [...Buffer.from(s, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0').toUpperCase()}`).join('');
}

/** Printable ASCII kept, anything Node would refuse in a request path percent-encoded. */
export function pathSafe(s: string): string {
  return s.replace(/[^\x21-\x7e]/gu, (c) => pct(c));
}

/** An HTTP answer to attacker input: a documented 2xx/4xx (or 503 over_capacity), never a 500. */
export function assertHttpAnswer(answer: RawResponse, what: string, allowed: number[]): void {
  const fail = (why: string) => {
    throw new Error(`${what} → ${answer.status} ${answer.text.slice(0, 300)}: ${why}`);
  };
  if (answer.status >= 500 && !(answer.status === 503 && answer.text.includes('"over_capacity"'))) fail('a 5xx to client input');
  if (!allowed.includes(answer.status)) fail(`status not in ${allowed.join(', ')}`);
  if (answer.status >= 400) {
    let code: unknown;
    try {
      code = (JSON.parse(answer.text) as { error?: { code?: unknown } }).error?.code;
    } catch {
      fail('the error body is not JSON');
    }
    if (!HTTP_CODES.has(String(code))) fail(`undocumented code ${String(code)}`);
  }
  if (/\n\s+at /.test(answer.text)) fail('a stack trace in the body');
}

/** Random bytes and texts for HTTP bodies (JSON-shaped ones come from the caller). */
export const junkBody: fc.Arbitrary<string | Uint8Array> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.json({ maxDepth: 4 }),
  fc.uint8Array({ maxLength: 200 }),
  fc.integer({ min: 1, max: 20_000 }).map((d) => '['.repeat(d) + ']'.repeat(d)),
  fc.integer({ min: 1, max: 3000 }).map((d) => `{"message":${'{"a":'.repeat(d)}1${'}'.repeat(d)}}`),
  fc.constantFrom('', 'null', '[]', '"x"', '{', '{"a":1}{', '\ufeff{}', 'x'.repeat(70_000)),
);

export const contentTypes = fc.constantFrom(
  undefined,
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'application/json; charset=bogus',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/*',
  'application/json; charset="',
  ';;;',
);

export const contentEncodings = fc.constantFrom(undefined, undefined, undefined, 'gzip', 'deflate', 'br', 'identity', 'bogus');
