/** Redis test helpers: delete every key of a test prefix (tests never FLUSH the shared Redis). */
import type { RedisLink } from '@agent-bridge/common/redis';

export async function deleteKeys(link: RedisLink, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await link.cmd<[string, string[]]>(['SCAN', cursor, 'MATCH', `${prefix}:*`, 'COUNT', '1000']);
    cursor = String(next);
    if (keys.length > 0) deleted += Number(await link.cmd(['DEL', ...keys]));
  } while (cursor !== '0');
  return deleted;
}

/** How many keys of a prefix have no TTL (every key must have one). */
export async function keysWithoutTtl(link: RedisLink, prefix: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await link.cmd<[string, string[]]>(['SCAN', cursor, 'MATCH', `${prefix}:*`, 'COUNT', '1000']);
    cursor = String(next);
    for (const k of keys) if (Number(await link.cmd(['PTTL', k])) === -1) out.push(k);
  } while (cursor !== '0');
  return out;
}
