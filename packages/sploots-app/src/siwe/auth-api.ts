/** The web server's /auth endpoints (docs/protocol.md, "Sessions and identity"). */
export interface AuthSession {
  token: string;
  clientId: string;
  address: string | null;
  expiresAt: string;
}

export class AuthError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'AuthError';
  }
}

async function call<T>(fetchImpl: typeof fetch, url: string, init?: RequestInit): Promise<T> {
  let res: Response;
  try {
    res = await fetchImpl(url, init);
  } catch {
    throw new AuthError(0, 'network', 'the server could not be reached');
  }
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    const err = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
    throw new AuthError(
      res.status,
      typeof err?.code === 'string' ? err.code : `http_${res.status}`,
      typeof err?.message === 'string' ? err.message : `HTTP ${res.status}`,
    );
  }
  return body as T;
}

export class AuthApi {
  constructor(
    private readonly baseUrl: string,
    private readonly fetchImpl: typeof fetch = (...args) => fetch(...args),
  ) {}

  challenge(address: string, chainId?: number): Promise<{ message: string; nonce: string; expiresAt: string }> {
    const url = new URL('/auth/challenge', this.baseUrl);
    url.searchParams.set('address', address);
    if (chainId !== undefined) url.searchParams.set('chainId', String(chainId));
    return call(this.fetchImpl, url.toString());
  }

  verify(body: { message: string; signature: string; clientId?: string; token?: string }): Promise<AuthSession> {
    return call(this.fetchImpl, new URL('/auth/verify', this.baseUrl).toString(), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  }

  signOut(token: string): Promise<AuthSession> {
    return call(this.fetchImpl, new URL('/auth/signout', this.baseUrl).toString(), {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
  }
}
