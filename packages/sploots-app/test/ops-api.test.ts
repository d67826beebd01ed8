import { describe, expect, it } from 'vitest';
import { OPS_TOKEN_KEY, fetchOps, loadToken, saveToken } from '../src/ops/ops-api.ts';

const sample = { t: 1, framesInPerSec: 2, framesOutPerSec: 2, deliveryP50Ms: 0.1, deliveryP99Ms: 0.4 };
const snapshot = {
  generatedAt: '2026-11-26T00:00:00.000Z',
  cluster: false,
  unreachable: [],
  nodes: [
    { nodeId: 'b1', service: 'broker', ready: true, reasons: [], uptimeS: 5, connections: { agent: 1, client: 1 }, recentErrors: [], recentCloses: [], now: sample, sampleIntervalMs: 5000, history: [sample] },
  ],
};

function fakeFetch(status: number, body: unknown, seen: Array<{ url: string; auth: string | null }> = []): typeof fetch {
  return (async (url: string, init?: RequestInit) => {
    seen.push({ url, auth: new Headers(init?.headers).get('authorization') });
    return new Response(typeof body === 'string' ? body : JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  }) as typeof fetch;
}

describe('ops api', () => {
  it('sends the token as a bearer token to /api/ops and validates the answer', async () => {
    const seen: Array<{ url: string; auth: string | null }> = [];
    const r = await fetchOps('s3cret', fakeFetch(200, snapshot, seen));
    expect(seen).toEqual([{ url: '/api/ops', auth: 'Bearer s3cret' }]);
    expect(r.ok && r.snapshot.nodes[0]!.nodeId).toBe('b1');
  });

  it('tells a refused token, a disabled view, a broken answer and an unreachable server apart', async () => {
    expect(await fetchOps('x', fakeFetch(401, { error: { code: 'unauthorized' } }))).toMatchObject({ ok: false, reason: 'unauthorized' });
    expect(await fetchOps('x', fakeFetch(404, {}))).toMatchObject({ ok: false, reason: 'disabled' });
    expect(await fetchOps('x', fakeFetch(200, { nodes: 'nope' }))).toMatchObject({ ok: false, reason: 'failed' });
    expect(await fetchOps('x', fakeFetch(200, 'not json'))).toMatchObject({ ok: false, reason: 'failed' });
    expect(await fetchOps('x', fakeFetch(503, {}))).toMatchObject({ ok: false, reason: 'failed', message: 'the server answered 503' });
    const down = (async () => {
      throw new TypeError('network');
    }) as unknown as typeof fetch;
    expect(await fetchOps('x', down)).toMatchObject({ ok: false, reason: 'failed' });
  });

  it('keeps the token in the given (session) storage and forgets it on empty', () => {
    const m = new Map<string, string>();
    const storage = { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v), removeItem: (k: string) => void m.delete(k) };
    saveToken('t1', storage);
    expect(m.get(OPS_TOKEN_KEY)).toBe('t1');
    expect(loadToken(storage)).toBe('t1');
    saveToken('', storage);
    expect(loadToken(storage)).toBe('');
    const broken = { getItem: () => { throw new Error('denied'); } };
    expect(loadToken(broken)).toBe('');
  });
});

describe('ops page markup (server-rendered, no DOM)', () => {
  it('asks for the token first; draws graphs as role=img with a text summary and a table fallback', async () => {
    const { renderToStaticMarkup } = await import('react-dom/server');
    const { createElement } = await import('react');
    const { OpsPage } = await import('../src/ops/index.ts');
    const { Snapshot } = await import('../src/ops/OpsPage.tsx');
    const login = renderToStaticMarkup(createElement(OpsPage, { fetchFn: fakeFetch(200, snapshot) }));
    expect(login).toContain('data-testid="ops-login"');
    expect(login).toContain('type="password"');

    const waiting = { ...snapshot.nodes[0]!, agents: [{ name: 'trader', connections: 0, waiting: 3 }] };
    const html = renderToStaticMarkup(createElement(Snapshot, { snapshot: { ...snapshot, nodes: [waiting] } as never }));
    expect(html).toMatch(/<svg[^>]*role="img"[^>]*aria-label="Frames received per second[^"]*broker b1: now 2 frames\/s/);
    expect(html).toContain('<path d="M');
    expect(html).toContain('<table class="ops-table">');
    expect(html).toMatch(/<tr class="ops-bad"><th scope="row">trader<\/th><td>0<\/td><td>3<\/td>/);
  });
});
