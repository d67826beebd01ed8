/**
 * A reconnect storm's thousands of connections arrive while the event loop is busy: the listen
 * backlog (LISTEN_BACKLOG) must hold them, or each one the kernel drops waits for TCP's SYN
 * retransmission (1 s, 2 s …) however soon the broker is free again.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { broker } from './helpers.ts';

/** The kernel caps every backlog at net.core.somaxconn (4096 on current Linux; 128 on old ones). */
function somaxconn(): number {
  try {
    return Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8'));
  } catch {
    return 0;
  }
}

describe('listen backlog', () => {
  it.skipIf(somaxconn() < 2048)('1,500 connections made while the event loop is blocked for 300 ms are all accepted within a second', async () => {
    const b = await broker();
    const sockets: net.Socket[] = [];
    try {
      const t0 = performance.now();
      const connected = Array.from({ length: 1500 }, () => {
        const s = net.connect(b.port, '127.0.0.1');
        sockets.push(s);
        return new Promise<number>((resolve, reject) => {
          s.once('connect', () => resolve(performance.now() - t0));
          s.once('error', reject);
        });
      });
      // Let the connects go out, then keep the broker (this process) from accepting: the kernel
      // completes the handshakes into the accept queue, up to the backlog, and drops the rest.
      await new Promise((r) => setImmediate(r));
      const until = performance.now() + 300;
      while (performance.now() < until) {
        /* busy */
      }
      const times = await Promise.all(connected);
      // Node's default backlog (511): ~1,000 of them would connect only after a SYN retransmission (≥ 1 s).
      expect(Math.max(...times)).toBeLessThan(1000);
    } finally {
      for (const s of sockets) s.destroy();
    }
  });
});
