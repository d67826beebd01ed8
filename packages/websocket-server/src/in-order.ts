/**
 * Frames of one connection take their effect in arrival order, even when each must first ask a
 * shared store something (a cluster, PROTOCOL §10): the questions go out at once (pipelined on the
 * Redis connection), and each frame's effect runs only when every earlier frame's has. With
 * nothing waiting, a frame whose answer is already here runs at once: the memory path never
 * queues.
 */
export class InOrder {
  private readonly slots: { ready: boolean; run: (() => void) | undefined }[] = [];

  /** Take the next place in line; call the answer with the effect once it may run. */
  slot(): (run: () => void) => void {
    const s: { ready: boolean; run: (() => void) | undefined } = { ready: false, run: undefined };
    this.slots.push(s);
    return (run) => {
      s.run = run;
      s.ready = true;
      this.drain();
    };
  }

  get waiting(): number {
    return this.slots.length;
  }

  private drain(): void {
    while (this.slots.length > 0 && this.slots[0]!.ready) {
      const s = this.slots.shift()!;
      s.run!();
    }
  }
}
