/**
 * The broker's `ts` of a frame it sent (e2e latency to_client, issue 15), read from the frame's
 * last bytes: the broker writes `ts` last, as Date#toISOString — `…,"ts":"2026-11-25T17:00:00.000Z"}`.
 * Per frame at the web server, so no string, regex or Date.parse on the common path (those were
 * ~1 µs a frame, issue 15 item 7): the 32 bytes are checked against the pattern and the digits
 * go straight into Date.UTC (once a minute; see lastMinute). Any other spelling falls back to the regex.
 */
const D = -1; // a digit
const PATTERN: readonly number[] = Array.from('"ts":"0000-00-00T00:00:00.000Z"}', (c) => (c === '0' ? D : c.charCodeAt(0)));
const CLOSE = Buffer.from('}');
const TS_SUFFIX = /"ts":"(\d{4}-\d\d-\d\dT[\d:.]{8,15}Z)"\}$/;

/**
 * The minute of the last `ts` read (`YYYY-MM-DDTHH:MM`, bytes 6–21 of the pattern) and its epoch ms,
 * process-wide: frames of interleaved broadcasts and echoes carry different milliseconds but almost
 * always the same minute, so a frame costs a 16-byte compare and five digits, no date math.
 */
const MINUTE_FROM = 6;
const MINUTE_TO = 22;
const lastMinute = new Uint8Array(MINUTE_TO - MINUTE_FROM);
let lastMinuteMs: number | undefined;

/**
 * ms since the epoch, or undefined when the frame does not end with a `ts`. `end`: where the
 * frame's own members end when `accepted`s ride after them (`…,"ts":"…"` then `,"accepted":[…]}`
 * from `end` on; unaccepted.ts `carried`): the closing brace the pattern ends with is then not there.
 */
export function brokerTsMs(data: Uint8Array, end = data.length): number | undefined {
  const carried = end !== data.length;
  const start = end - PATTERN.length + (carried ? 1 : 0);
  if (start < 1) return undefined;
  let same = lastMinuteMs !== undefined;
  const n = carried ? PATTERN.length - 1 : PATTERN.length;
  for (let i = 0; i < n; i++) {
    const p = PATTERN[i]!;
    const c = data[start + i]!;
    if (p === D ? c < 0x30 || c > 0x39 : c !== p) return slow(carried ? Buffer.concat([data.subarray(0, end), CLOSE]) : data);
    if (same && i >= MINUTE_FROM && i < MINUTE_TO && c !== lastMinute[i - MINUTE_FROM]) same = false;
  }
  const second = num(data, start + 23, 2);
  if (second > 59) return undefined;
  const within = second * 1000 + num(data, start + 26, 3);
  if (same) return lastMinuteMs! + within;
  const minuteMs = minuteOf(data, start);
  if (minuteMs === undefined) return undefined;
  lastMinute.set(data.subarray(start + MINUTE_FROM, start + MINUTE_TO));
  lastMinuteMs = minuteMs;
  return minuteMs + within;
}

/** Epoch ms of the `ts`'s minute (no closure here: tsx names every arrow function it creates, per call). */
function minuteOf(data: Uint8Array, start: number): number | undefined {
  const month = num(data, start + 11, 2);
  const day = num(data, start + 14, 2);
  const hour = num(data, start + 17, 2);
  const minute = num(data, start + 20, 2);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59) return undefined;
  return Date.UTC(num(data, start + 6, 4), month - 1, day, hour, minute);
}

/** The decimal number of `n` digit bytes at `at` (checked to be digits already). */
function num(data: Uint8Array, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) v = v * 10 + data[i]! - 0x30;
  return v;
}

function slow(data: Uint8Array): number | undefined {
  if (data.length < 40 || data[data.length - 1] !== 0x7d) return undefined;
  const m = TS_SUFFIX.exec(Buffer.from(data.buffer, data.byteOffset + data.length - 40, 40).toString('latin1'));
  if (!m) return undefined;
  const ms = Date.parse(m[1]!);
  return Number.isFinite(ms) ? ms : undefined;
}
