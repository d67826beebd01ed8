/**
 * SeqGate (seq-gate.ts): frames in seq order, each once, gaps read back from the log; and the
 * sweeper's gap check (cluster-sweeper.ts), which looks at the log only for sessions that heard
 * nothing since its last check. Pure logic with fake timers and an in-memory "log"; the same
 * repair against the real Redis is in cluster.test.ts ("a frame stored without its notification").
 */
import { createLogger } from '@agent-bridge/common';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClusterSweeper } from '../src/cluster-sweeper.ts';
import type { OutItem } from '../src/mailbox.ts';
import { GAP_WAIT_MS, SeqGate } from '../src/seq-gate.ts';
import type { LoggedFrame } from '../src/store/session-log.ts';

const item = (seq: number): OutItem => ({ payload: `f${seq}`, kind: 'direct', type: 'message', seq });

function gate(log: LoggedFrame[] = []) {
  const out: number[] = [];
  const reads: number[] = [];
  const g = new SeqGate({
    emit: (i) => out.push(i.seq!),
    readAfter: async (seq) => {
      reads.push(seq);
      return log.filter((f) => f.seq > seq);
    },
    onError: () => undefined,
    onHole: () => undefined,
  });
  return { g, out, reads };
}

describe('SeqGate', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('a frame ahead of a gap waits, then the gap is read from the log; each frame once, in order', async () => {
    const log = [1, 2, 3].map((seq) => ({ seq, payload: `f${seq}`, type: 'message' }) as LoggedFrame);
    const { g, out, reads } = gate(log);
    g.open(0);
    g.push(item(1));
    g.push(item(3)); // 2's notification was lost
    expect(out).toEqual([1]);
    await vi.advanceTimersByTimeAsync(GAP_WAIT_MS);
    expect(reads).toEqual([1]);
    expect(out).toEqual([1, 2, 3]);
    g.push(item(2)); // the late notification: sent already
    expect(out).toEqual([1, 2, 3]);
  });

  it('takeHeard: whether a new frame arrived since the last call', () => {
    const { g } = gate();
    g.open(5);
    expect(g.takeHeard()).toBe(false);
    g.push(item(6));
    expect(g.takeHeard()).toBe(true);
    expect(g.takeHeard()).toBe(false);
    g.push(item(6)); // a duplicate of what the socket has: nothing new
    expect(g.takeHeard()).toBe(false);
  });
});

describe('the sweeper’s gap check', () => {
  it('asks the log only for sessions that heard nothing since its last check; a quiet one next round', async () => {
    const asked: string[] = [];
    const busy = gate();
    const quiet = gate();
    busy.g.open(1);
    quiet.g.open(1);
    const conns = [
      { clientId: 'busy', detached: false, gate: busy.g },
      { clientId: 'quiet', detached: false, gate: quiet.g },
    ];
    const sweeper = new ClusterSweeper({
      stores: {
        nodes: { beat: async () => true, claimDead: async () => [] },
        log: {
          lastSeq: async (clientId: string) => {
            asked.push(clientId);
            return 1;
          },
        },
      },
      clients: { sweep: async () => undefined },
      shutdown: { closing: false },
      log: createLogger('seq-gate-test', { level: 'silent' }),
      sessionTtlMs: 60_000,
      deadAfterMs: 10_000,
      hub: { clients: () => conns },
    } as unknown as ConstructorParameters<typeof ClusterSweeper>[0]);
    const round = async () => {
      // A gap check every 5 rounds (GAP_CHECK_ROUNDS).
      for (let i = 0; i < 5; i++) await sweeper.tick();
    };
    busy.g.push(item(2));
    await round();
    expect(asked).toEqual(['quiet']);
    // busy went quiet after that frame: looked at in the next check.
    await round();
    expect(asked).toEqual(['quiet', 'busy', 'quiet']);
  });
});
