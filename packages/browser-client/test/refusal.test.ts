/**
 * A refused upgrade is shown, not retried for ever: a page whose Origin the web server does not
 * allow (403) ends in status `offline` with the reason and a hint, and dials no more. A
 * transient failure (the web server down) keeps redialling.
 */
import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '@agent-bridge/testkit';
import { createBridgeClient, type BridgeClient, type WebSocketConstructor } from '../src/index.ts';
import { MemoryStorage, waitFor } from './helpers.ts';

let stack: Stack;
const clients: BridgeClient[] = [];

/** What a page at `origin` is: its WebSocket and fetch send that Origin, as a browser does. */
function pageAt(origin: string, storage = new MemoryStorage()) {
  let dials = 0;
  class PageWebSocket extends WebSocket {
    constructor(url: string) {
      dials++;
      super(url, { origin });
    }
  }
  const pageFetch: typeof fetch = (input, init = {}) => fetch(input, { ...init, headers: { ...(init.headers as Record<string, string>), origin } });
  const client = createBridgeClient({
    baseUrl: stack.webUrl,
    storage,
    WebSocketImpl: PageWebSocket as unknown as WebSocketConstructor,
    fetch: pageFetch,
    backoff: { initialMs: 50, maxMs: 100 },
  });
  clients.push(client);
  return { client, dials: () => dials };
}

beforeAll(async () => {
  stack = await startStack();
}, 30_000);
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});
afterAll(async () => {
  await stack?.close();
});

describe('refused upgrades', () => {
  it('403 at registration (a page on a foreign Origin): offline with the reason and what to do, never dials', async () => {
    const { client, dials } = pageAt('http://not-the-app.example:9999');
    const status = await waitFor(client, 'status', (s) => s.state === 'offline', 8000);
    expect(status).toMatchObject({ state: 'offline', refusal: { status: 403 } });
    if (status.state !== 'offline' || !status.refusal) throw new Error('unreachable');
    expect(status.refusal.hint).toMatch(/PUBLIC_ORIGIN|ALLOWED_ORIGINS/);
    await new Promise((r) => setTimeout(r, 600)); // six backoff periods
    expect(dials()).toBe(0);
    expect(client.status.state).toBe('offline');
  });

  it('403 at the upgrade (a stored session, a foreign Origin): POST /api/ws-check explains it; one dial, then offline', async () => {
    // The session was made where the app lives; the page now runs somewhere else.
    const res = await fetch(`${stack.webUrl}/api/clients`, { method: 'POST' });
    const session = (await res.json()) as { clientId: string; token: string; expiresAt: string };
    const storage = new MemoryStorage();
    storage.setItem('agent-bridge.session', JSON.stringify({ ...session, lastSeq: 0, nextId: 1 }));
    const { client, dials } = pageAt('http://not-the-app.example:9999', storage);
    const status = await waitFor(client, 'status', (s) => s.state === 'offline', 8000);
    expect(status).toMatchObject({ state: 'offline', refusal: { status: 403, code: 'forbidden' } });
    expect(status.state === 'offline' && status.reason).toMatch(/403/);
    await new Promise((r) => setTimeout(r, 600));
    expect(dials()).toBe(1);
  });

  it('the app’s own origin connects as usual', async () => {
    const { client } = pageAt(stack.webUrl);
    await waitFor(client, 'status', (s) => s.state === 'connected', 8000);
  });
});
