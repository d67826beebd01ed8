/**
 * The pipe's per-frame metric handles, bound to their label sets once per metrics object (one per
 * web server) rather than per frame or per pipe: a frame costs a few adds (issue 15 item 7), and an
 * idle browser socket holds no handles of its own. Every frame is still counted (no sampling).
 */
import { FlushClock } from '@agent-bridge/common';
import { FRAME_TYPE_UNPARSED } from '@agent-bridge/common/metrics';
import type { WebMetrics } from '../http/metrics.ts';

interface CounterChild {
  inc(value?: number): void;
}

export interface PipeFrameMetrics {
  /** Frames and their bytes read from the browser (kind client) and written to the broker (kind upstream). */
  fromClient(bytes: number): void;
  toUpstream(bytes: number): void;
  /** Frames read from the broker and written to the browser. */
  fromUpstream(bytes: number): void;
  toClient(bytes: number): void;
  /**
   * e2e latency to_client of a frame written to the browser this turn: `sentAtMs` is the broker's
   * `ts` (ms since the epoch); the end is the turn's write (flush-clock.ts), by this host's clock.
   */
  e2eToClient(sentAtMs: number): void;
}

const bound = new WeakMap<WebMetrics, PipeFrameMetrics>();

export function pipeFrameMetrics(m: WebMetrics): PipeFrameMetrics {
  let p = bound.get(m);
  if (p) return p;
  const hop = (frames: CounterChild, bytes: CounterChild) => (n: number) => {
    frames.inc();
    bytes.inc(n);
  };
  const any = FRAME_TYPE_UNPARSED;
  const e2e = m.e2eLatency.labels({ direction: 'to_client' });
  const written = new FlushClock(Date.now, 1 / 1000);
  p = {
    fromClient: hop(m.framesIn.labels({ kind: 'client', type: any }), m.bytesIn.labels({ kind: 'client' })),
    toUpstream: hop(m.framesOut.labels({ kind: 'upstream', type: any }), m.bytesOut.labels({ kind: 'upstream' })),
    fromUpstream: hop(m.framesIn.labels({ kind: 'upstream', type: any }), m.bytesIn.labels({ kind: 'upstream' })),
    toClient: hop(m.framesOut.labels({ kind: 'client', type: any }), m.bytesOut.labels({ kind: 'client' })),
    e2eToClient: (sentAtMs) => written.observe(e2e, sentAtMs),
  };
  bound.set(m, p);
  return p;
}
