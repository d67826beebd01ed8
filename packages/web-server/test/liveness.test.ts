/** SocketLiveness with fake timers: both modes, suspend/resume, and what counts as a sign of life. */
import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type WebSocket from 'ws';
import { SocketLiveness } from '../src/ws/liveness.ts';

/** What SocketLiveness uses of a ws socket: events, ping, readyState. */
class FakeSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  readonly pings: Buffer[] = [];
  ping(data: Buffer): void {
    this.pings.push(data);
  }
  /** The peer echoes our latest ping. */
  answer(): void {
    this.emit('pong', this.pings.at(-1));
  }
}

const start = (mode: 'ping-peer' | 'watch-silence') => {
  const ws = new FakeSocket();
  const onDead = vi.fn();
  const live = new SocketLiveness(ws as unknown as WebSocket, { mode, intervalMs: 100, timeoutMs: 350, onDead });
  return { ws, onDead, live };
};

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("mode 'ping-peer' (browsers)", () => {
  it('pings every interval, one ping in flight; a peer that echoes stays alive', () => {
    const { ws, onDead, live } = start('ping-peer');
    vi.advanceTimersByTime(100);
    expect(ws.pings).toHaveLength(1);
    vi.advanceTimersByTime(100);
    expect(ws.pings).toHaveLength(1); // still waiting for the first answer
    for (let i = 0; i < 10; i++) {
      ws.answer();
      vi.advanceTimersByTime(100);
    }
    expect(ws.pings.length).toBeGreaterThan(5);
    expect(onDead).not.toHaveBeenCalled();
    live.stop();
  });

  it('only an echo of the outstanding ping counts: frames and unsolicited pongs do not keep it alive', () => {
    const { ws, onDead } = start('ping-peer');
    for (let i = 0; i < 5; i++) {
      ws.emit('message', Buffer.from('{}'));
      ws.emit('pong', Buffer.from('not ours'));
      vi.advanceTimersByTime(100);
    }
    expect(onDead).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1_000);
    expect(onDead).toHaveBeenCalledTimes(1); // stopped after declaring it dead
  });

  it('reports each answered ping’s round trip', () => {
    const ws = new FakeSocket();
    const onRtt = vi.fn();
    const live = new SocketLiveness(ws as unknown as WebSocket, { mode: 'ping-peer', intervalMs: 100, timeoutMs: 350, onDead: () => {}, onRtt });
    vi.advanceTimersByTime(100);
    ws.answer();
    expect(onRtt).toHaveBeenCalledTimes(1);
    live.stop();
  });
});

describe("mode 'watch-silence' (the upstream)", () => {
  it('never pings; the peer’s pings and frames count as life, silence past the timeout is death', () => {
    const { ws, onDead } = start('watch-silence');
    for (let i = 0; i < 10; i++) {
      ws.emit(i % 2 ? 'ping' : 'message');
      vi.advanceTimersByTime(100);
    }
    expect(ws.pings).toHaveLength(0);
    expect(onDead).not.toHaveBeenCalled();
    vi.advanceTimersByTime(400);
    expect(onDead).toHaveBeenCalledTimes(1);
  });

  it('does not judge silence while suspended (backpressure), and counts from resume', () => {
    const { onDead, live } = start('watch-silence');
    live.suspend();
    vi.advanceTimersByTime(5_000);
    expect(onDead).not.toHaveBeenCalled();
    live.resume();
    vi.advanceTimersByTime(300);
    expect(onDead).not.toHaveBeenCalled();
    vi.advanceTimersByTime(200);
    expect(onDead).toHaveBeenCalledTimes(1);
  });
});
