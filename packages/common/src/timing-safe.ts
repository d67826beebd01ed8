import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Constant-time token check. Both sides are hashed first so that the comparison neither
 * throws on a length mismatch nor leaks the expected length through timing.
 */
export function tokenMatches(given: string | undefined, expected: readonly string[]): boolean {
  if (given === undefined) return false;
  const g = createHash('sha256').update(given).digest();
  let ok = false;
  for (const e of expected) {
    // No early exit: every candidate is compared.
    if (timingSafeEqual(g, createHash('sha256').update(e).digest())) ok = true;
  }
  return ok;
}

/** `Authorization: Bearer <token>` → token. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}
