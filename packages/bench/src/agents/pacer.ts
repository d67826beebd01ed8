/**
 * Broadcasts at a fixed rate for a fixed time (bounded in count and time), shared by the three
 * agents so that every target gets exactly the same offered load.
 */
import { nowUs } from '../histogram.ts';

export interface BroadcastArgs {
  /** Broadcasts per second. */
  rate: number;
  durationMs: number;
  /** Index of the first broadcast (`b` field), so indices never repeat across steps. */
  start: number;
  /** Padding characters in each payload. */
  padding: number;
}

export interface BroadcastResult {
  sent: number;
  elapsedMs: number;
}

export interface BroadcastData {
  b: number;
  t: number;
  p: string;
}

/** Call `send` `rate` times a second for `durationMs`, catching up on late timer ticks. */
export function paced(args: BroadcastArgs, send: (data: BroadcastData) => void): Promise<BroadcastResult> {
  const pad = 'x'.repeat(args.padding);
  const total = Math.floor((args.rate * args.durationMs) / 1000);
  const t0 = performance.now();
  let sent = 0;
  return new Promise((resolve) => {
    const tick = () => {
      const elapsed = performance.now() - t0;
      const due = Math.min(total, Math.floor((args.rate * elapsed) / 1000));
      while (sent < due) send({ b: args.start + sent++, t: nowUs(), p: pad });
      if (sent >= total || elapsed > args.durationMs * 3) resolve({ sent, elapsedMs: performance.now() - t0 });
      else setTimeout(tick, 2);
    };
    tick();
  });
}
