/**
 * Cluster mode (PROTOCOL §10): a shared store (Redis) that cannot be reached. The Redis stores
 * throw this instead of the client library's error, and the app's error handler answers it with
 * HTTP 503 `unavailable` — never a crash, never a 500. The connection logs its state changes once
 * (RedisLink); a request that failed because of it is not logged again.
 */
export class StoreUnavailable extends Error {
  override name = 'StoreUnavailable';
  constructor(readonly store: string) {
    super(`the shared store (${store}) cannot be reached`);
  }
}

/** Run one store call; any failure of the call itself becomes StoreUnavailable. */
export async function storeCall<T>(store: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof StoreUnavailable) throw err;
    throw new StoreUnavailable(store);
  }
}
