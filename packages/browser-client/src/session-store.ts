import type { StorageLike } from './types.ts';

/**
 * What survives a page reload: credentials plus the resume cursor. Kept in sessionStorage so a
 * reload resumes the same session while a new tab starts its own (two tabs sharing one clientId
 * would keep replacing each other, close 4500).
 */
export interface StoredSession {
  clientId: string;
  token: string;
  expiresAt: string;
  /** Highest `seq` received; `0` before any. */
  lastSeq: number;
  /** Epoch of the last welcome; absent until the first welcome. */
  epoch?: string;
  /** Next number for `c-<n>` message ids, so ids stay unique across reloads. */
  nextId: number;
  /** §8: messages sent but not yet accepted, `[id, frame text]` in send order; resent after a reload. */
  unaccepted?: [string, string][];
}

const isPair = (p: unknown): p is [string, string] =>
  Array.isArray(p) && p.length === 2 && typeof p[0] === 'string' && typeof p[1] === 'string';

export const DEFAULT_STORAGE_KEY = 'agent-bridge.session';

export class SessionStore {
  constructor(
    private readonly storage: StorageLike | undefined,
    private readonly key: string = DEFAULT_STORAGE_KEY,
  ) {}

  load(): StoredSession | undefined {
    let raw: string | null = null;
    try {
      raw = this.storage?.getItem(this.key) ?? null;
    } catch {
      return undefined; // storage disabled (privacy mode): behave as a fresh tab
    }
    if (!raw) return undefined;
    try {
      const v = JSON.parse(raw) as Partial<StoredSession>;
      if (typeof v.clientId !== 'string' || typeof v.token !== 'string') return undefined;
      return {
        clientId: v.clientId,
        token: v.token,
        expiresAt: typeof v.expiresAt === 'string' ? v.expiresAt : '',
        lastSeq: typeof v.lastSeq === 'number' && v.lastSeq >= 0 ? v.lastSeq : 0,
        ...(typeof v.epoch === 'string' ? { epoch: v.epoch } : {}),
        nextId: typeof v.nextId === 'number' && v.nextId > 0 ? v.nextId : 1,
        ...(Array.isArray(v.unaccepted) ? { unaccepted: v.unaccepted.filter(isPair) } : {}),
      };
    } catch {
      return undefined;
    }
  }

  save(session: StoredSession): void {
    try {
      this.storage?.setItem(this.key, JSON.stringify(session));
    } catch {
      // Quota or disabled storage: the session still works, it just will not survive a reload.
    }
  }

  clear(): void {
    try {
      this.storage?.removeItem(this.key);
    } catch {
      /* see save() */
    }
  }
}
