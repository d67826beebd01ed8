/**
 * Liveness for every accepted socket (PROTOCOL §4): one timer pings all peers each interval; a
 * peer that sent nothing (no pong, no frame) for the timeout is handed to `onDead`, which
 * terminates it so that its lifecycle events fire.
 */
import type WebSocket from 'ws';

interface Peer {
  lastSeen: number;
  onDead: () => void;
  onPong: () => void;
  /** performance.now() of the unanswered ping (heartbeat round trip). */
  pingAt?: number;
}

export class Heartbeat {
  private readonly peers = new Map<WebSocket, Peer>();
  private readonly timer: NodeJS.Timeout;
  private lastTick = Date.now();

  constructor(
    private readonly intervalMs: number,
    private readonly timeoutMs: number,
  ) {
    this.timer = setInterval(() => this.tick(), intervalMs);
    this.timer.unref();
  }

  /** `onRtt`: each ping's round trip, seconds (agent_bridge_heartbeat_rtt_seconds). */
  add(ws: WebSocket, onDead: () => void, onRtt?: (seconds: number) => void): void {
    const peer: Peer = {
      lastSeen: Date.now(),
      onDead,
      onPong: () => {
        this.touch(ws);
        if (peer.pingAt !== undefined) onRtt?.((performance.now() - peer.pingAt) / 1000);
        peer.pingAt = undefined;
      },
    };
    ws.on('pong', peer.onPong);
    this.peers.set(ws, peer);
  }

  /** Any frame from the peer is a sign of life. */
  touch(ws: WebSocket): void {
    const p = this.peers.get(ws);
    if (p) p.lastSeen = Date.now();
  }

  remove(ws: WebSocket): void {
    const p = this.peers.get(ws);
    if (!p) return;
    ws.off('pong', p.onPong);
    this.peers.delete(ws);
  }

  stop(): void {
    clearInterval(this.timer);
    for (const ws of [...this.peers.keys()]) this.remove(ws);
  }

  private tick(): void {
    const now = Date.now();
    // A tick that runs late means this process was stalled (GC, load): the peers' pongs may be
    // sitting unread in our sockets, so nobody is judged on this round.
    const stalled = now - this.lastTick > this.intervalMs * 2;
    this.lastTick = now;
    for (const [ws, p] of [...this.peers]) {
      if (!stalled && now - p.lastSeen > this.timeoutMs) {
        this.remove(ws);
        p.onDead();
        continue;
      }
      if (ws.readyState === ws.OPEN) {
        p.pingAt = performance.now();
        ws.ping();
      }
    }
  }
}
