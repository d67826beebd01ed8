/** The two HTTP calls the client needs: register a session, and check a token. */
export interface Registration {
  clientId: string;
  token: string;
  expiresAt: string;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

async function errorFrom(res: Response): Promise<HttpError> {
  let code = 'http_' + res.status;
  let message = `HTTP ${res.status}`;
  try {
    const body = (await res.json()) as { error?: { code?: unknown; message?: unknown } };
    if (typeof body.error?.code === 'string') code = body.error.code;
    if (typeof body.error?.message === 'string') message = body.error.message;
  } catch {
    /* not JSON: keep the status text */
  }
  return new HttpError(res.status, code, message);
}

/** `POST /api/clients` → `{clientId, token, expiresAt}`. */
export async function register(baseUrl: string, fetchImpl: typeof fetch): Promise<Registration> {
  const res = await fetchImpl(new URL('/api/clients', baseUrl).toString(), { method: 'POST' });
  if (res.status !== 201 && res.status !== 200) throw await errorFrom(res);
  const body = (await res.json()) as Partial<Registration>;
  if (typeof body.clientId !== 'string' || typeof body.token !== 'string') {
    throw new HttpError(res.status, 'bad_response', 'registration answer lacks clientId or token');
  }
  return { clientId: body.clientId, token: body.token, expiresAt: String(body.expiresAt ?? '') };
}

/**
 * Is this token still accepted? A WebSocket upgrade refused with 401 looks like any other failed
 * connect (close 1006) to browser code, so after such a failure we ask `GET /api/me`.
 * Returns 'valid', 'invalid' (401: register again) or 'unknown' (network trouble: just retry).
 */
export async function checkToken(baseUrl: string, token: string, fetchImpl: typeof fetch): Promise<'valid' | 'invalid' | 'unknown'> {
  try {
    const res = await fetchImpl(new URL('/api/me', baseUrl).toString(), {
      headers: { authorization: `Bearer ${token}` },
    });
    if (res.status === 401) return 'invalid';
    return res.ok ? 'valid' : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** What `POST /api/ws-check` says about an upgrade with our token from this page's Origin. */
export type UpgradeCheck =
  | { kind: 'ok' }
  | { kind: 'refused'; status: number; code: string; message: string }
  /** No answer (network trouble) or a server without /api/ws-check. */
  | { kind: 'unknown' };

/**
 * Why did the upgrade fail? Browsers hide the HTTP answer of a refused upgrade (it is close
 * 1006, like a network error), so after a connect that failed before open we ask the web server
 * what the upgrade would get: 200 `{ok:true}` when it would be accepted, else the upgrade's own
 * status and `{error:{code,message}}`.
 */
export async function checkUpgrade(baseUrl: string, clientId: string, token: string, fetchImpl: typeof fetch): Promise<UpgradeCheck> {
  let res: Response;
  try {
    res = await fetchImpl(new URL('/api/ws-check', baseUrl).toString(), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ clientId, token }),
    });
  } catch {
    return { kind: 'unknown' };
  }
  if (res.ok) return { kind: 'ok' };
  const err = await errorFrom(res);
  // An older web server has no such route: its generic 404/405, not an answer about the upgrade.
  if ((res.status === 404 && err.code === 'not_found') || res.status === 405) return { kind: 'unknown' };
  return { kind: 'refused', status: res.status, code: err.code, message: err.message };
}
