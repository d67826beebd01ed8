import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { PROXY_TOKEN, agent, broker, client, getJson } from './helpers.ts';

const ADDR = '0x52908400098527886E0F7030069857D2E4169EE7';

describe('HTTP endpoints', () => {
  it('GET /healthz counts agents and clients', async () => {
    const b = await broker();
    let h = await getJson(`${b.url}/healthz`);
    expect(h.status).toBe(200);
    expect(h.body).toMatchObject({ status: 'ok', agents: 0, clients: 0 });
    expect(typeof h.body.uptimeS).toBe('number');
    await agent(b);
    await client(b, 'c1');
    h = await getJson(`${b.url}/healthz`);
    expect(h.body).toMatchObject({ status: 'ok', agents: 1, clients: 1, sessions: 1 });
  });

  it('GET /metrics is Prometheus text with connections, sessions, frames, drops and errors', async () => {
    const b = await broker();
    const a = await agent(b);
    const c = await client(b, 'c1');
    c.send({ type: 'message', id: 'm1', data: 1 });
    c.send('not json');
    await a.next('client.message');
    await c.next('error');
    const res = await fetch(`${b.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/^agent_bridge_connections\{kind="agent"\} 1$/m);
    expect(text).toMatch(/^agent_bridge_connections\{kind="client"\} 1$/m);
    expect(text).toMatch(/^agent_bridge_sessions\{state="connected"\} 1$/m);
    expect(text).toMatch(/^agent_bridge_frames_in_total\{kind="client",type="message"\} 1$/m);
    expect(text).toMatch(/^agent_bridge_frames_out_total\{kind="agent",type="client.message"\} 1$/m);
    expect(text).toMatch(/^agent_bridge_errors_total\{code="invalid_json"\} 1$/m);
    expect(text).toMatch(/^agent_bridge_broadcasts_dropped_total 0$/m);
  });

  it('answers unknown paths 404, wrong methods 405, plain GETs of socket paths 426, all as JSON errors', async () => {
    const b = await broker();
    expect(await getJson(`${b.url}/nope`)).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    expect(await getJson(`${b.url}/healthz`, { method: 'POST' })).toMatchObject({ status: 405, body: { error: { code: 'method_not_allowed' } } });
    expect(await getJson(`${b.url}/ws/agent`)).toMatchObject({ status: 426, body: { error: { code: 'upgrade_required' } } });
    expect(await getJson(`${b.url}/internal/clients/c1/identity`)).toMatchObject({ status: 405 });
  });
});

describe('malformed requests', () => {
  const raw = (port: number, text: string) =>
    new Promise<string>((resolve, reject) => {
      const sock = net.connect(port, '127.0.0.1', () => sock.write(text));
      let out = '';
      sock.on('data', (c) => (out += c.toString()));
      sock.on('close', () => resolve(out));
      sock.on('error', reject);
      setTimeout(() => sock.destroy(), 2000).unref();
    });

  it('answers an unparseable request target with 400, plain or upgrade, and keeps serving', async () => {
    const b = await broker();
    const plain = await raw(b.port, 'GET //[:: HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(plain).toMatch(/^HTTP\/1.1 400/);
    const upgrade = await raw(
      b.port,
      'GET //[:: HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    );
    expect(upgrade).toMatch(/^HTTP\/1.1 400/);
    expect((await getJson(`${b.url}/healthz`)).status).toBe(200);
  });
});

describe('POST /internal/clients/:clientId/identity', () => {
  const post = (url: string, body: unknown, token: string | null = PROXY_TOKEN) =>
    getJson(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('sets and clears the address: agents get client.authenticated / client.signed_out, later messages carry it', async () => {
    const b = await broker();
    const a = await agent(b);
    const c = await client(b, 'c1');
    expect(c.welcome.address).toBeNull();
    expect((await a.event('client.connected')).address).toBeNull();
    const url = `${b.url}/internal/clients/c1/identity`;

    expect((await post(url, { address: ADDR })).status).toBe(204);
    expect(await a.event('client.authenticated')).toMatchObject({ clientId: 'c1', address: ADDR });
    c.send({ type: 'message', id: 'x', data: 'hi' });
    expect(await a.next('client.message')).toMatchObject({ clientId: 'c1', address: ADDR, ref: 'x' });

    expect((await post(url, { address: null })).status).toBe(204);
    expect(await a.event('client.signed_out')).toMatchObject({ clientId: 'c1' });
    c.send({ type: 'message', data: 'again' });
    expect((await a.next('client.message')).address).toBeNull();
  });

  it('refuses a wrong token 401, a bad body 400, an unknown client 404', async () => {
    const b = await broker();
    await client(b, 'c1');
    const url = `${b.url}/internal/clients/c1/identity`;
    expect(await post(url, { address: ADDR }, null)).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
    expect(await post(url, { address: ADDR }, 'wrong')).toMatchObject({ status: 401 });
    expect(await post(url, { address: '0x123' })).toMatchObject({ status: 400, body: { error: { code: 'bad_request' } } });
    expect(await post(url, '{nope')).toMatchObject({ status: 400 });
    expect(await post(url, {})).toMatchObject({ status: 400 });
    expect(await post(`${b.url}/internal/clients/nobody/identity`, { address: ADDR })).toMatchObject({
      status: 404,
      body: { error: { code: 'unknown_client' } },
    });
  });

  it('takes the address from X-Client-Address on the upgrade', async () => {
    const b = await broker();
    const a = await agent(b);
    const c = await client(b, 'c1', { address: ADDR });
    expect(c.welcome.address).toBe(ADDR);
    expect(await a.event('client.connected')).toMatchObject({ clientId: 'c1', address: ADDR, resumed: false });
    c.send({ type: 'message', data: 1 });
    expect((await a.next('client.message')).address).toBe(ADDR);
  });
});
