/** Which browser origins may open /ws/*: PUBLIC_ORIGIN plus ALLOWED_ORIGINS. */
export class OriginPolicy {
  private readonly allowed: Set<string>;

  constructor(publicOrigin: string, extra: readonly string[]) {
    this.allowed = new Set([publicOrigin, ...extra].map(normalise).filter((o): o is string => o !== undefined));
  }

  /** No Origin header: not a browser (browsers always send one on WebSocket upgrades). */
  allows(origin: string | undefined): boolean {
    if (origin === undefined) return true;
    const o = normalise(origin);
    return o !== undefined && this.allowed.has(o);
  }
}

function normalise(origin: string): string | undefined {
  try {
    const url = new URL(origin);
    // `null` (sandboxed frames, file:) parses to an opaque origin: never allowed.
    return url.origin === 'null' ? undefined : url.origin;
  } catch {
    return undefined;
  }
}
