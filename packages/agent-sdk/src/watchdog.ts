/**
 * Declares a connection dead after `timeoutMs` without a sign of life (a frame, a ping or a pong).
 * Call `touch()` on each; `onDead` runs once unless `stop()` came first.
 */
export class Watchdog {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly timeoutMs: number,
    private readonly onDead: () => void,
  ) {}

  touch(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.onDead();
    }, this.timeoutMs);
    // A watchdog alone must not keep the process alive.
    this.timer.unref();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
