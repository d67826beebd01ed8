/**
 * Liveness of one socket (PROTOCOL §4): a peer that has been silent (no pong, no frame, no ping)
 * for the timeout is dead. Used on both sides of the web server: browsers (we accept, so we ping
 * them every interval) and the upstream (we dial; the broker pings us and ws answers, so we only
 * watch for its silence: `ping: false`, one ping and pong fewer per client and interval).
 */
import type WebSocket from 'ws';

export interface HeartbeatOptions {
  intervalMs: number;
  timeoutMs: number;
  onDead: () => void;
  /** Send a ping every interval (default). false: only check for silence every interval. */
  ping?: boolean;
}

export class Heartbeat {
  private lastSeen = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private suspended = false;
  private readonly seen = () => {
    this.lastSeen = Date.now();
  };

  constructor(
    private readonly ws: WebSocket,
    private readonly opts: HeartbeatOptions,
  ) {
    ws.on('pong', this.seen);
    ws.on('ping', this.seen);
    ws.on('message', this.seen);
    this.timer = setInterval(() => this.tick(), opts.intervalMs);
  }

  /**
   * While we deliberately stop reading a socket (backpressure) its pongs sit unread in the
   * kernel; that is not the peer's silence.
   */
  suspend(): void {
    this.suspended = true;
  }

  resume(): void {
    this.suspended = false;
    this.seen();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.ws.off('pong', this.seen);
    this.ws.off('ping', this.seen);
    this.ws.off('message', this.seen);
  }

  private tick(): void {
    if (this.suspended) return;
    if (Date.now() - this.lastSeen > this.opts.timeoutMs) {
      this.stop();
      this.opts.onDead();
      return;
    }
    if (this.opts.ping !== false && this.ws.readyState === this.ws.OPEN) this.ws.ping();
  }
}
