/**
 * Rules docs/protocol.md states for the broker that no other test pinned down. Each test is
 * written so that breaking the rule (the mutation named in its comment) makes it fail; absences
 * are proven by a marker frame that arrives after them, never by sleeping.
 */
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { agent, broker, client, getJson, PROXY_TOKEN } from './helpers.ts';

const ADDR = '0x52908400098527886E0F7030069857D2E4169EE7';

/** POST the identity hop as the web server does. */
async function setIdentity(url: string, clientId: string, address: string | null): Promise<number> {
  const res = await getJson(`${url}/internal/clients/${encodeURIComponent(clientId)}/identity`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${PROXY_TOKEN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ address }),
  });
  return res.status;
}

/**
 * A client upgrade done by hand on a raw TCP socket, so the test controls the close handshake:
 * `sendClose()` writes a close frame and then keeps the TCP connection open, leaving the broker's
 * socket in CLOSING (its close frame has arrived, ws has not emitted 'close').
 */
async function rawClient(port: number, clientId: string): Promise<{ sendClose(code: number): void; destroy(): void }> {
  const sock = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  sock.on('error', () => undefined);
  const key = randomBytes(16).toString('base64');
  sock.write(
    `GET /ws/client/${clientId} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer ${PROXY_TOKEN}\r\n\r\n`,
  );
  // Wait for the 101 and the welcome frame that follows it.
  await new Promise<void>((resolve, reject) => {
    let seen = '';
    const onData = (d: Buffer) => {
      seen += d.toString('latin1');
      if (seen.startsWith('HTTP/1.1 101') && seen.includes('"welcome"')) {
        sock.off('data', onData);
        resolve();
      } else if (seen.includes('\r\n\r\n') && !seen.startsWith('HTTP/1.1 101')) reject(new Error(seen));
    };
    sock.on('data', onData);
  });
  return {
    sendClose(code: number) {
      const mask = randomBytes(4);
      const payload = Buffer.from([code >> 8, code & 0xff]);
      const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
      sock.write(Buffer.concat([Buffer.from([0x88, 0x80 | payload.length]), mask, masked]));
    },
    destroy: () => sock.destroy(),
  };
}

describe('documented broker rules', () => {
  it('an ack beyond the highest seq counts as an ack of it (no more, no less)', async () => {
    const b = await broker();
    const a = await agent(b);
    const c = await client(b, 'c1');
    for (let i = 1; i <= 3; i++) a.send({ type: 'send', to: 'c1', data: i });
    for (let i = 1; i <= 3; i++) await c.next('message');
    c.send({ type: 'ack', seq: 1000 });
    // Frames are handled in order: once the marker reached the agent, the ack was applied.
    c.send({ type: 'message', id: 'marker', data: 'after-ack' });
    expect((await a.next('client.message')).ref).toBe('marker');
    c.ws.terminate();
    // Ignoring the over-large ack would make this resume replay all three frames.
    const fromZero = await client(b, 'c1', { lastSeq: 0, epoch: b.epoch });
    expect(fromZero.welcome).toMatchObject({ resumed: false, replayed: 0, lastSeq: 3 });

    // Taking 1000 literally (forgetting frames not yet sent) would refuse this resume from 3.
    const c2 = await client(b, 'c2');
    a.send({ type: 'send', to: 'c2', data: 'x' });
    const m = await c2.next('message');
    c2.send({ type: 'ack', seq: 1000 });
    c2.send({ type: 'message', id: 'marker2', data: 'after-ack' });
    expect((await a.next((f) => f.type === 'client.message' && f.ref === 'marker2')).clientId).toBe('c2');
    a.send({ type: 'send', to: 'c2', data: 'later' });
    await c2.next('message');
    c2.ws.terminate();
    const resumed = await client(b, 'c2', { lastSeq: m.seq, epoch: b.epoch });
    expect(resumed.welcome).toMatchObject({ resumed: true, replayed: 1 });
    expect(await resumed.next('message')).toMatchObject({ data: 'later', seq: m.seq + 1 });
  });

  it('replacing a socket that was already closing fires the client.disconnected / client.connected pair', async () => {
    const b = await broker();
    const a = await agent(b);
    const old = await rawClient(b.port, 'c1');
    expect(await a.event('client.connected')).toMatchObject({ clientId: 'c1', resumed: false });
    old.sendClose(4001);
    try {
      // The old socket is CLOSING (its close frame arrived, TCP still open) when this one comes.
      const fresh = await client(b, 'c1', { lastSeq: 0, epoch: b.epoch });
      expect(fresh.welcome.clientId).toBe('c1');
      // A silent 4500-style replacement would fire neither event.
      expect(await a.event('client.disconnected')).toMatchObject({ clientId: 'c1', resumable: true });
      expect(await a.event('client.connected')).toMatchObject({ clientId: 'c1', resumed: true });
    } finally {
      old.destroy();
    }
  });

  it('the identity event fires only when the address changes', async () => {
    const b = await broker();
    const a = await agent(b);
    await client(b, 'c1');
    await a.event('client.connected');
    expect(await setIdentity(b.url, 'c1', ADDR)).toBe(204);
    expect(await setIdentity(b.url, 'c1', ADDR)).toBe(204);
    expect(await setIdentity(b.url, 'c1', null)).toBe(204);
    expect(await setIdentity(b.url, 'c1', null)).toBe(204);
    // The marker: a replacement with the same (null) address, then a message.
    const again = await client(b, 'c1');
    again.send({ type: 'message', id: 'marker', data: 1 });
    await a.next((f) => f.type === 'client.message' && f.ref === 'marker');
    const identity = a.all((f) => f.event === 'client.authenticated' || f.event === 'client.signed_out').map((f) => f.event);
    expect(identity).toEqual(['client.authenticated', 'client.signed_out']);
  });

  it('messages of a session that expires while they wait are still delivered', async () => {
    const b = await broker({ SESSION_TTL_MS: '5000' });
    const watcher = await agent(b, { name: 'watcher' });
    const c = await client(b, 'c1');
    c.send({ type: 'message', id: 'w1', agent: 'late', data: 'first' });
    c.send({ type: 'message', id: 'w2', agent: 'late', data: 'second' });
    // A close with 1000 ends the session at once (client.expired); the marker orders the sends.
    c.send({ type: 'message', id: 'marker', agent: 'watcher', data: 0 });
    await watcher.next('client.message');
    c.close(1000);
    await watcher.event('client.expired');
    expect((await getJson(`${b.url}/healthz`)).body.sessions).toBe(0);
    const late = await agent(b, { name: 'late' });
    const got = [await late.next('client.message'), await late.next('client.message')];
    expect(got.map((f) => [f.ref, f.data, f.clientId])).toEqual([
      ['w1', 'first', 'c1'],
      ['w2', 'second', 'c1'],
    ]);
  });

  it('one agent frame has one id for all its recipients (send to a list, broadcast)', async () => {
    const b = await broker();
    const a = await agent(b);
    const c1 = await client(b, 'c1');
    const c2 = await client(b, 'c2');
    const c3 = await client(b, 'c3');
    // Different seqs per session, so a per-recipient id could not hide behind equal seqs.
    a.send({ type: 'send', to: 'c1', data: 'warm-up' });
    await c1.next('message');
    a.send({ type: 'send', to: ['c1', 'c2', 'c3'], data: 'listed' });
    const listed = [await c1.next('message'), await c2.next('message'), await c3.next('message')];
    expect(new Set(listed.map((f) => f.id)).size).toBe(1);
    expect(listed.map((f) => f.seq)).not.toEqual([listed[1]!.seq, listed[1]!.seq, listed[1]!.seq]);
    a.send({ type: 'broadcast', data: 'all' });
    const all = [await c1.next('message'), await c2.next('message'), await c3.next('message')];
    expect(new Set(all.map((f) => f.id)).size).toBe(1);
    expect(all[0]!.id).not.toBe(listed[0]!.id);
  });

  it('reconnecting does not refill the rate bucket', async () => {
    const b = await broker({ CLIENT_RATE_PER_SEC: '1', CLIENT_RATE_BURST: '5' });
    const a = await agent(b);
    const c = await client(b, 'c1');
    for (let i = 1; i <= 5; i++) c.send({ type: 'message', id: `m${i}`, data: i });
    for (let i = 1; i <= 5; i++) await a.next('client.message');
    c.ws.terminate();
    const back = await client(b, 'c1', { lastSeq: 0, epoch: b.epoch });
    for (let i = 1; i <= 3; i++) back.send({ type: 'message', id: `after${i}`, data: i });
    // At 1 token/s, at most one of three can pass unless the reconnect took seconds; a fresh
    // bucket (burst 5) would pass all three.
    const refused = await back.next('error');
    expect(refused).toMatchObject({ code: 'rate_limited' });
    expect(String(refused.ref)).toMatch(/^after/);
  });
});
