/**
 * The web server's one liveness mechanism (PROTOCOL §4), for one socket, in one of two modes, one
 * per side of the web server:
 *
 * - `mode: 'ping-peer'` (browsers; we accept, so we ping them): the peer is alive only while it answers
 *   OUR pings. Each ping carries a random payload and only a pong echoing the outstanding one
 *   counts. Frames and unsolicited pongs do not: a browser that stopped reading cannot see our
 *   pings (they queue behind the data it does not read), so it must not be able to keep its pipe
 *   alive by sending pongs or frames blindly (issue 9).
 * - `mode: 'watch-silence'` (the upstream; the broker pings us and ws answers): we only watch for
 *   the broker's silence; its pings and frames count.
 */
import { randomBytes } from 'node:crypto';
import type WebSocket from 'ws';

export interface SocketLivenessOptions {
  /** `ping-peer`: send a ping every interval, only its echo counts; `watch-silence`: check every interval that the peer spoke. */
  mode: 'ping-peer' | 'watch-silence';
  intervalMs: number;
  timeoutMs: number;
  onDead: () => void;
  /** ping-peer: each answered ping's round trip, seconds (agent_bridge_heartbeat_rtt_seconds). */
  onRtt?: (seconds: number) => void;
}

const PING_PAYLOAD_BYTES = 8;

export class SocketLiveness {
  private lastSeen = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private suspended = false;
  /** Payload of the ping not yet answered (ping mode). */
  private outstanding: Buffer | undefined;
  private sentAt = 0;
  private readonly pinging: boolean;
  private readonly seen = () => {
    this.lastSeen = Date.now();
  };
  private readonly onPong = (data: Buffer) => {
    if (this.outstanding && data.equals(this.outstanding)) {
      this.outstanding = undefined;
      this.opts.onRtt?.((performance.now() - this.sentAt) / 1000);
      this.seen();
    }
  };

  constructor(
    private readonly ws: WebSocket,
    private readonly opts: SocketLivenessOptions,
  ) {
    this.pinging = opts.mode === 'ping-peer';
    if (this.pinging) {
      ws.on('pong', this.onPong);
    } else {
      ws.on('ping', this.seen);
      ws.on('message', this.seen);
    }
    this.timer = setInterval(() => this.tick(), opts.intervalMs);
  }

  /**
   * While we deliberately stop reading a socket (backpressure) its pongs sit unread in the
   * kernel; that is not the peer's silence. The pipe bounds how long this may last
   * (PIPE_PAUSE_MAX_MS).
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
    this.ws.off('pong', this.onPong);
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
    // One ping in flight at a time: a slow but honest peer still gets to answer the first one.
    if (this.pinging && !this.outstanding && this.ws.readyState === this.ws.OPEN) {
      this.outstanding = randomBytes(PING_PAYLOAD_BYTES);
      this.sentAt = performance.now();
      this.ws.ping(this.outstanding);
    }
  }
}
