/**
 * Debounced persistence: the conversation is written at most once per `delayMs` while it changes
 * (a streamed reply changes it per token), and at once when the page is being left (`pagehide`,
 * or hidden), so a reload finds everything the browser client's resume cursor already covers:
 * the bridge replays only what came after that cursor.
 */
export class DebouncedSaver {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private dirty = false;
  private readonly off: () => void;

  constructor(
    private readonly save: () => void,
    private readonly delayMs = 300,
    target: Pick<Window, 'addEventListener' | 'removeEventListener'> | undefined = typeof window === 'undefined' ? undefined : window,
  ) {
    const flush = () => this.flush();
    const hidden = () => {
      if (typeof document !== 'undefined' && document.visibilityState === 'hidden') this.flush();
    };
    target?.addEventListener('pagehide', flush);
    target?.addEventListener('beforeunload', flush);
    target?.addEventListener('visibilitychange', hidden);
    this.off = () => {
      target?.removeEventListener('pagehide', flush);
      target?.removeEventListener('beforeunload', flush);
      target?.removeEventListener('visibilitychange', hidden);
    };
  }

  /** Something changed: save within `delayMs`. */
  schedule(): void {
    this.dirty = true;
    this.timer ??= setTimeout(() => this.flush(), this.delayMs);
  }

  /** Save now if anything changed since the last save. */
  flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.dirty) return;
    this.dirty = false;
    this.save();
  }

  dispose(): void {
    this.flush();
    this.off();
  }
}
