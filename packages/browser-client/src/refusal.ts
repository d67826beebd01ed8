/** Refused WebSocket upgrades: which ones a retry could fix, and what a person should do. */

/**
 * 400 (malformed request), 401 (a token just issued is refused: the server's key or clock is
 * off), 403 (this page's Origin is not allowed), 404 (no such path) do not change by retrying.
 * 429, 5xx and 503 `unavailable` do: those are retried with backoff.
 */
export function isPermanentRefusal(status: number): boolean {
  return status === 400 || status === 401 || status === 403 || status === 404;
}

/** One sentence for the person in front of the page. */
export function hintFor(status: number): string {
  switch (status) {
    case 403:
      return 'This page was opened at an address the server does not accept WebSockets from. Open the app at the address the server prints (its PUBLIC_ORIGIN), or add this origin to ALLOWED_ORIGINS.';
    case 401:
      return 'The server refused this session. Reload the page to start a new one; if that fails too, the server’s JWT_SECRET or clock may have changed.';
    case 404:
      return 'The server has no WebSocket endpoint here: check the address (baseUrl).';
    default:
      return 'Reload the page to try again.';
  }
}
