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
