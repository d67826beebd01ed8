/**
 * The ops view's side of `GET /api/ops`: the OPS_TOKEN lives in sessionStorage (gone when the tab
 * closes; never in localStorage or a URL), goes as a bearer token, and the answer is validated
 * with the shared schema before anything renders it.
 */
import { OPS_PATH, OpsSnapshot } from '@agent-bridge/common/protocol';

export const OPS_TOKEN_KEY = 'agent-bridge.ops-token';

export function loadToken(storage?: Pick<Storage, 'getItem'>): string {
  try {
    return (storage ?? sessionStorage).getItem(OPS_TOKEN_KEY) ?? '';
  } catch {
    return ''; // storage disabled (or none, server-side): ask each time
  }
}

export function saveToken(token: string, storage?: Pick<Storage, 'setItem' | 'removeItem'>): void {
  try {
    const store = storage ?? sessionStorage;
    if (token) store.setItem(OPS_TOKEN_KEY, token);
    else store.removeItem(OPS_TOKEN_KEY);
  } catch {
    /* storage disabled: the token lives only in memory */
  }
}

export type OpsResult =
  | { ok: true; snapshot: OpsSnapshot }
  /** unauthorized: wrong or missing token; disabled: no OPS_TOKEN configured (404); failed: anything else. */
  | { ok: false; reason: 'unauthorized' | 'disabled' | 'failed'; message: string };

export async function fetchOps(token: string, fetchFn: typeof fetch = fetch, signal?: AbortSignal): Promise<OpsResult> {
  let res: Response;
  try {
    res = await fetchFn(OPS_PATH, { headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' }, cache: 'no-store', signal });
  } catch (err) {
    return { ok: false, reason: 'failed', message: `the web server cannot be reached (${(err as Error).message})` };
  }
  if (res.status === 401) return { ok: false, reason: 'unauthorized', message: 'that token was not accepted' };
  if (res.status === 404) return { ok: false, reason: 'disabled', message: 'the ops view is not enabled on this server (OPS_TOKEN is not set)' };
  if (!res.ok) return { ok: false, reason: 'failed', message: `the server answered ${res.status}` };
  const parsed = OpsSnapshot.safeParse(await res.json().catch(() => undefined));
  if (!parsed.success) return { ok: false, reason: 'failed', message: 'the server answered something this page does not understand' };
  return { ok: true, snapshot: parsed.data };
}
