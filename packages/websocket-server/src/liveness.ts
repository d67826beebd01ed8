/**
 * The broker's one liveness mechanism, for every accepted socket (PROTOCOL §4): one timer pings
 * all watched peers each HEARTBEAT_INTERVAL_MS; a peer that sent nothing (no pong, no frame) for
 * HEARTBEAT_TIMEOUT_MS is terminated, so that its close (1006) fires its lifecycle events.
 */
import type WebSocket from 'ws';

interface Peer {
  lastSeen: number;
  onPong: () => void;
  /** performance.now() of the unanswered ping (heartbeat round trip). */
  pingAt?: number;
}

export class Liveness {
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

  /** Watch `ws`; `onRtt`: each ping's round trip, seconds (agent_bridge_heartbeat_rtt_seconds). */
  watch(ws: WebSocket, onRtt?: (seconds: number) => void): void {
    const peer: Peer = {
      lastSeen: Date.now(),
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

  unwatch(ws: WebSocket): void {
    const p = this.peers.get(ws);
    if (!p) return;
    ws.off('pong', p.onPong);
    this.peers.delete(ws);
  }

  stop(): void {
    clearInterval(this.timer);
    for (const ws of [...this.peers.keys()]) this.unwatch(ws);
  }

  private tick(): void {
    const now = Date.now();
    // A tick that runs late means this process was stalled (GC, load): the peers' pongs may be
    // sitting unread in our sockets, so nobody is judged on this round.
    const stalled = now - this.lastTick > this.intervalMs * 2;
    this.lastTick = now;
    for (const [ws, p] of [...this.peers]) {
      if (!stalled && now - p.lastSeen > this.timeoutMs) {
        this.unwatch(ws);
        ws.terminate();
        continue;
      }
      if (ws.readyState === ws.OPEN) {
        p.pingAt = performance.now();
        ws.ping();
      }
    }
  }
}
