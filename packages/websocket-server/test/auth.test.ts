import { describe, expect, it } from 'vitest';
import { AGENT_TOKEN, PROXY_TOKEN, agent, broker, client, refused } from './helpers.ts';

describe('upgrade auth (before any handshake)', () => {
  it('refuses an agent without a token, or with a wrong one, with 401 and a JSON error body', async () => {
    const b = await broker();
    const none = await refused(`${b.wsUrl}/ws/agent`);
    expect(none).toEqual({ status: 401, body: { error: { code: 'unauthorized', message: expect.any(String) } } });
    const wrong = await refused(`${b.wsUrl}/ws/agent`, { headers: { Authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('unauthorized');
    // The proxy token is not an agent token.
    expect((await refused(`${b.wsUrl}/ws/agent`, { headers: { Authorization: `Bearer ${PROXY_TOKEN}` } })).status).toBe(401);
  });

  it('accepts every configured agent token (rotation)', async () => {
    const b = await broker({ AGENT_TOKEN: `old_token, ${AGENT_TOKEN}` });
    const a1 = await agent(b, { token: 'old_token' });
    const a2 = await agent(b, { token: AGENT_TOKEN });
    expect(a1.welcome.agent).toBe('default');
    expect(a2.welcome.agent).toBe('default');
  });

  it('refuses a client upstream without the proxy token (a browser hitting /ws/client) with 401', async () => {
    const b = await broker();
    expect((await refused(`${b.wsUrl}/ws/client/c1`)).status).toBe(401);
    const wrong = await refused(`${b.wsUrl}/ws/client/c1`, { headers: { Authorization: 'Bearer wrong' } });
    expect(wrong).toEqual({ status: 401, body: { error: { code: 'unauthorized', message: expect.any(String) } } });
    expect((await refused(`${b.wsUrl}/ws/client/c1`, { headers: { Authorization: `Bearer ${AGENT_TOKEN}` } })).status).toBe(401);
    const ok = await client(b, 'c1');
    expect(ok.welcome.clientId).toBe('c1');
  });

  it('refuses a bad agent name with 400 bad_request, from the header or the query', async () => {
    const b = await broker();
    const headers = { Authorization: `Bearer ${AGENT_TOKEN}` };
    const viaHeader = await refused(`${b.wsUrl}/ws/agent`, { headers: { ...headers, 'X-Agent-Name': 'bad name!' } });
    expect(viaHeader).toEqual({ status: 400, body: { error: { code: 'bad_request', message: expect.any(String) } } });
    expect((await refused(`${b.wsUrl}/ws/agent?name=${'x'.repeat(65)}`, { headers })).status).toBe(400);
    // Auth comes first: a bad name with a bad token is 401.
    expect((await refused(`${b.wsUrl}/ws/agent?name=bad%20name`)).status).toBe(401);
  });

  it('takes the agent name from X-Agent-Name or ?name=, default "default"', async () => {
    const b = await broker();
    expect((await agent(b, { name: 'trader' })).welcome.agent).toBe('trader');
    expect((await agent(b, { name: 'scout.v2', nameInQuery: true })).welcome.agent).toBe('scout.v2');
    expect((await agent(b)).welcome.agent).toBe('default');
  });

  it('refuses a bad clientId or X-Client-Address with 400, unknown paths with 404', async () => {
    const b = await broker();
    const headers = { Authorization: `Bearer ${PROXY_TOKEN}` };
    expect((await refused(`${b.wsUrl}/ws/client/${'x'.repeat(129)}`, { headers })).status).toBe(400);
    expect((await refused(`${b.wsUrl}/ws/client/`, { headers })).status).toBe(400);
    expect((await refused(`${b.wsUrl}/ws/client/c1`, { headers: { ...headers, 'X-Client-Address': 'not-an-address' } })).status).toBe(400);
    const nf = await refused(`${b.wsUrl}/ws/nothing`, { headers });
    expect(nf).toEqual({ status: 404, body: { error: { code: 'not_found', message: expect.any(String) } } });
    expect((await refused(`${b.wsUrl}/ws/client/a/b`, { headers })).status).toBe(404);
  });

  it('decodes a percent-encoded clientId', async () => {
    const b = await broker();
    const c = await client(b, 'tab 1/ü');
    expect(c.welcome.clientId).toBe('tab 1/ü');
  });
});
