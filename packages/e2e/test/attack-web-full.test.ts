// Issue 9's attacks through the WHOLE bridge (web server + broker, real processes) at DEFAULT
// settings: the slow project (CI: `pnpm test --project slow`), minutes of both cores.
//
// - (a) ~500 anonymous sessions, registered within the default per-IP HTTP limit from a dozen
//   source addresses (127.0.0.2 … 127.0.0.13), each parking 100 messages of ~63 KB for absent
//   agent names: the broker died of heap OOM in 68 s before the budgets.
// - (c) six browsers flooding parse-heavy ~63 KB frames for 20 s: the web server's external
//   memory grew 245 → 881 MB before it applied backpressure to browsers.
// Each asserts both processes stay up, answer a bystander, and keep their peak RSS (VmHWM) under
// the stated bound; the figures are printed for docs/security.md.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { TestSocket, connectRawAgent, startStack, type Session, type Stack } from '@agent-bridge/testkit';
import { rss } from './attack-broker-scenarios.ts';

const MiB = 1024 * 1024;
/** The bound both services must stay under at default settings (the machine has 24 GB). */
const RSS_BOUND = 1536 * MiB;
const mib = (n: number) => `${(n / MiB).toFixed(0)} MiB`;
const IPS = Array.from({ length: 12 }, (_, i) => `127.0.0.${i + 2}`);

/** POST /api/clients from a given source address (the per-IP HTTP limit counts it). */
function register(webUrl: string, localAddress: string): Promise<Session> {
  const u = new URL('/api/clients', webUrl);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', localAddress, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => (res.statusCode === 201 ? resolve(JSON.parse(body) as Session) : reject(new Error(`${res.statusCode} ${body}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

async function browser(stack: Stack, s: Session, localAddress: string): Promise<TestSocket> {
  const ws = await TestSocket.open(`${stack.webWsUrl}/ws/${s.clientId}?token=${encodeURIComponent(s.token)}`, { localAddress });
  await ws.next('welcome', 30_000);
  return ws;
}

/** Peak RSS of both processes, sampled while `work` runs (VmHWM is kept by the kernel anyway). */
function peaks(stack: Stack) {
  return { web: rss(stack.web.pid!).peak, broker: rss(stack.broker.pid!).peak };
}

/** A bystander's round trip through the web server to an echo agent of its own. */
async function bystander(stack: Stack): Promise<number> {
  const agent = await connectRawAgent(stack.brokerUrl, { name: 'bystander' });
  try {
    await agent.next('welcome', 10_000);
    const me = await browser(stack, await register(stack.webUrl, '127.0.0.99'), '127.0.0.99');
    try {
      const t0 = Date.now();
      me.send({ type: 'message', id: 'ping', agent: 'bystander', data: 'ping' });
      const m = await agent.next('client.message', 10_000);
      agent.send({ type: 'send', to: m.clientId, data: 'pong' });
      await me.next((f) => f.type === 'message' && f.data === 'pong', 10_000);
      return Date.now() - t0;
    } finally {
      me.ws.terminate();
    }
  } finally {
    agent.ws.terminate();
  }
}

describe.skipIf(process.env.ATTACK_FULL !== '1')('attacks through the web server at default settings', () => {
  let stack: Stack;
  beforeAll(async () => {
    // Default settings, including the HTTP rate limit the testkit normally lifts.
    stack = await startStack({ env: { LOG_LEVEL: 'warn', RATE_LIMIT_HTTP_PER_MIN: '60' } });
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  test('(a) 500 anonymous sessions from 12 addresses park 100 × ~63 KB each for absent agents', { timeout: 600_000 }, async () => {
    const text = 'p'.repeat(63_000);
    let sent = 0;
    let refused = 0;
    let next = 0;
    const worker = async () => {
      for (let s = next++; s < 500; s = next++) {
        const ip = IPS[s % IPS.length]!;
        const ws = await browser(stack, await register(stack.webUrl, ip), ip);
        for (let i = 0; i < 100; i++) {
          ws.send({ type: 'message', id: `m${i}`, agent: `absent-${s}-${i % 5}`, data: { text, i } });
          sent++;
          // An attacker's own socket buffer is its problem; keep the test process bounded.
          if (ws.ws.bufferedAmount > 8 * MiB) await expect.poll(() => ws.ws.bufferedAmount < 2 * MiB, { timeout: 60_000, message: 'the burst to leave' }).toBe(true);
        }
        await expect.poll(() => ws.ws.bufferedAmount === 0, { timeout: 60_000, message: 'the burst to leave' }).toBe(true);
        while ((await ws.collectFor(100)).length > 0);
        refused += ws.all((f) => f.type === 'error').length;
        ws.ws.terminate();
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    const p = peaks(stack);
    process.stdout.write(`\n[attack-web-full] (a) sent ${sent}, refused ${refused}; peak RSS web ${mib(p.web)}, broker ${mib(p.broker)}\n`);
    expect(refused).toBeGreaterThan(0);
    expect(p.web).toBeLessThan(RSS_BOUND);
    expect(p.broker).toBeLessThan(RSS_BOUND);
    expect(await bystander(stack)).toBeLessThan(5000);
  });

  test('(c) six browsers flood parse-heavy ~63 KB frames for 20 s', { timeout: 120_000 }, async () => {
    // Thousands of tiny numbers: the most parsing per byte for the broker behind the web server.
    const heavy = JSON.stringify({ type: 'message', agent: 'absent-heavy', data: Array.from({ length: 15_000 }, (_, i) => i % 10) });
    expect(heavy.length).toBeGreaterThan(30_000);
    const floods = await Promise.all(
      Array.from({ length: 6 }, async (_, k) => browser(stack, await register(stack.webUrl, IPS[k]!), IPS[k]!)),
    );
    const deadline = Date.now() + 20_000;
    let sent = 0;
    await Promise.all(
      floods.map(async (ws) => {
        while (Date.now() < deadline && !ws.closed) {
          // Send as fast as the socket takes it; the attacker keeps at most 4 MiB in its own buffer.
          if (ws.ws.bufferedAmount < 4 * MiB) {
            ws.send(heavy);
            sent++;
          } else await new Promise((r) => setTimeout(r, 5));
        }
      }),
    );
    const rtt = await bystander(stack);
    for (const ws of floods) ws.ws.terminate();
    const p = peaks(stack);
    process.stdout.write(`\n[attack-web-full] (c) flood frames sent ${sent}; bystander ${rtt} ms; peak RSS web ${mib(p.web)}, broker ${mib(p.broker)}\n`);
    expect(p.web).toBeLessThan(RSS_BOUND);
    expect(p.broker).toBeLessThan(RSS_BOUND);
    expect(rtt).toBeLessThan(5000);
  });
});
