/** Once the broker shuts down: no more lifecycle events, no more routing. Read-only to everyone but close(). */
export class Shutdown {
  private stopped = false;

  get closing(): boolean {
    return this.stopped;
  }

  begin(): void {
    this.stopped = true;
  }
}
