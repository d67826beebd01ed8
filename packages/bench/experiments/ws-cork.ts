/**
 * Experiment (not product code): coalesce every `ws` send of one event-loop turn into one writev
 * per socket, by corking the socket at its first send and uncorking all of them in setImmediate.
 * Try it on Agent Bridge's processes without editing them:
 *
 *   BENCH_PRELOAD=./packages/bench/experiments/ws-cork.ts pnpm bench --scenarios echo
 *
 * Patches the prototype of the one `ws` copy the workspace resolves (pnpm: same path for all).
 */
import WebSocket from 'ws';

type Send = (this: WebSocket, data: unknown, opts?: unknown, cb?: unknown) => void;
const proto = WebSocket.prototype as unknown as { send: Send };
const original = proto.send;
const corked = new Set<import('node:net').Socket>();
let scheduled = false;

function flush(): void {
  scheduled = false;
  for (const s of corked) s.uncork();
  corked.clear();
}

proto.send = function (this: WebSocket, data, opts, cb) {
  const sock = (this as unknown as { _socket?: import('node:net').Socket })._socket;
  if (sock && !sock.destroyed && !corked.has(sock)) {
    sock.cork();
    corked.add(sock);
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  }
  return original.call(this, data, opts, cb);
};
