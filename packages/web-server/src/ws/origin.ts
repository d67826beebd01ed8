/**
 * Which browser origins may open /ws/* (and call /api, /auth with an Origin header):
 * PUBLIC_ORIGIN plus ALLOWED_ORIGINS. In development a loopback PUBLIC_ORIGIN also admits the
 * other loopback names on the same scheme and port (`localhost`, `127.0.0.1`, `[::1]`): they are
 * the same machine, and a developer opening http://localhost:8081 against the default
 * http://127.0.0.1:8081 should not be refused (issue 13).
 */
export const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]'] as const;

export class OriginPolicy {
  private readonly allowed: Set<string>;

  constructor(publicOrigin: string, extra: readonly string[], opts: { development?: boolean } = {}) {
    const base = [publicOrigin, ...extra];
    if (opts.development) base.push(...loopbackAlternates(publicOrigin));
    this.allowed = new Set(base.map(normalise).filter((o): o is string => o !== undefined));
  }

  /** No Origin header: not a browser (browsers always send one on WebSocket upgrades). */
  allows(origin: string | undefined): boolean {
    if (origin === undefined) return true;
    const o = normalise(origin);
    return o !== undefined && this.allowed.has(o);
  }
}

/** The other loopback spellings of a loopback origin (same scheme and port); [] otherwise. */
export function loopbackAlternates(origin: string): string[] {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return [];
  }
  if (!(LOOPBACK_HOSTS as readonly string[]).includes(url.hostname)) return [];
  const port = url.port ? `:${url.port}` : '';
  return LOOPBACK_HOSTS.filter((h) => h !== url.hostname).map((h) => `${url.protocol}//${h}${port}`);
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
