/**
 * Issue 15 through the real processes: one trace id in the broker's, the web server's and the demo
 * agent's logs for one message; every catalog family moves after real traffic (pending ones
 * excepted); no configured secret or token in any log of a full run (a refused upgrade carrying
 * its token in the query, a sign-in included); SIGTERM drains readiness before closing.
 */
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { Wallet } from 'ethers';
import { METRICS, type MetricSpec } from '@agent-bridge/common/metrics';
import { connectBrowser, refusedUpgrade, registerClient, startStack, type Stack } from '@agent-bridge/testkit';

const SECRETS = {
  AGENT_TOKEN: 'agent-secret-token-7f3a9c',
  PROXY_TOKEN: 'proxy-secret-token-41be07',
  JWT_SECRET: 'jwt-secret-value-0c5d2e9a1b',
  METRICS_TOKEN: 'metrics-secret-token-9d8c7b',
  OPS_TOKEN: 'ops-secret-token-5e4f3a2b1c',
};
let stack: Stack;
const auth = { authorization: `Bearer ${SECRETS.METRICS_TOKEN}` };
const scrape = async (url: string) => (await fetch(`${url}/metrics`, { headers: auth })).text();

beforeAll(async () => {
  stack = await startStack({ agent: true, env: { ...SECRETS, LOG_LEVEL: 'debug', HEARTBEAT_INTERVAL_MS: '100', HEARTBEAT_TIMEOUT_MS: '2000', DRAIN_DELAY_MS: '1500' } });
}, 30_000);
afterAll(() => stack?.close());

describe('one exchange through the three processes', () => {
  let traceId = '';
  let session: Awaited<ReturnType<typeof registerClient>>;

  test('one trace id in the web server, broker and agent logs for one message and its answer', async () => {
    session = await registerClient(stack.webUrl);
    const browser = await connectBrowser(stack.webUrl, session);
    await browser.next('welcome');
    browser.send({ type: 'message', id: 'obs-1', data: { text: 'echo traced' } });
    const answer = await browser.next('message');
    const tp = (answer._meta as { traceparent?: string } | undefined)?.traceparent;
    expect(tp).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    traceId = tp!.slice(3, 35);
    await vi.waitFor(
      () => {
        for (const p of [stack.web, stack.broker, stack.agent]) expect(p.logs(), p.spec.name).toContain(traceId);
      },
      { timeout: 5000 },
    );
    // the browser's message id is in the web server's line with the trace id
    expect(stack.web.logs().split('\n').some((l) => l.includes(traceId) && l.includes('"msgId":"obs-1"'))).toBe(true);
    // an invalid frame (the broker answers it) and a binary one (the web server does)
    browser.send({ type: 'message', id: 'bad-1' });
    expect(await browser.next('error')).toMatchObject({ code: 'invalid_message', ref: 'bad-1' });
    browser.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect(await browser.next('error')).toMatchObject({ code: 'invalid_json' });
    // left open: the scrape below sees a live browser socket and its upstream
  });

  test('a refused upgrade with a token in the query, and a sign-in', async () => {
    const bad = await refusedUpgrade(`${stack.webUrl.replace('http', 'ws')}/ws/${session.clientId}?token=${session.token}x`);
    expect(bad.status).toBe(401);
    const badAgent = await refusedUpgrade(`${stack.brokerUrl.replace('http', 'ws')}/ws/agent`, { headers: { authorization: 'Bearer not-the-agent-token' } });
    expect(badAgent.status).toBe(401);
    const wallet = Wallet.createRandom();
    const { message } = (await (await fetch(`${stack.webUrl}/auth/challenge?address=${wallet.address}`)).json()) as { message: string };
    const signature = await wallet.signMessage(message);
    const verify = await fetch(`${stack.webUrl}/auth/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message, signature, clientId: session.clientId, token: session.token }) });
    expect(verify.status).toBe(200);
    const signedToken = ((await verify.json()) as { token: string }).token;
    const ops = await fetch(`${stack.webUrl}/api/ops`, { headers: { authorization: `Bearer ${SECRETS.OPS_TOKEN}` } });
    expect(ops.status).toBe(200);
    const snap = (await ops.json()) as { nodes: { service: string }[] };
    expect(snap.nodes.map((n) => n.service).sort()).toEqual(['broker', 'web']);
    // both session tokens join the secrets the logs must not contain
    Object.assign(SECRETS, { SESSION: session.token, SIGNED: signedToken });
  });

  test('every catalog family moves after the traffic (pending families excepted)', async () => {
    const texts = { broker: await scrape(stack.brokerUrl), web: await scrape(stack.webUrl) };
    // Families that only move on failures this run does not provoke; each is asserted elsewhere.
    const needsFailure = new Set([
      'closes', 'connectionsRefused', 'broadcastsDropped', 'resumes', 'resumeEvicted', 'capacityRefusals', 'upstreamRedials', 'pipePauseCloses',
      'mailboxFrames', 'mailboxFramesMax', 'waitQueueDepth', 'waitQueueBytes', 'resumeBufferBytes',
      // §8: a resend or a gone agent connection; asserted in e2e/acks.test.ts and websocket-server/test/acks.test.ts.
      'framesRedelivered', 'framesDeduplicated',
      // Cluster mode only (this stack is one process without Redis): asserted in e2e/cluster-redis.test.ts.
      'redisErrors', 'redisReconnects', 'crossBrokerLag',
    ]);
    for (const [key, spec] of Object.entries(METRICS) as [string, MetricSpec][]) {
      for (const service of spec.services) {
        if (service === 'sdk') continue;
        const text = texts[service];
        const series = spec.type === 'histogram' ? `${spec.name}_count` : spec.name;
        const values = [...text.matchAll(new RegExp(`^${series}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].map((m) => Number(m[1]));
        expect(text, `${service} registers ${spec.name}`).toContain(`# TYPE ${spec.name} ${spec.type}`);
        if (spec.pending || needsFailure.has(key)) continue;
        expect(values.length, `${service} has a ${series} series`).toBeGreaterThan(0);
        expect(Math.max(...values), `${service} ${series} moved`).toBeGreaterThan(0);
      }
    }
    expect(texts.broker).toMatch(/^agent_bridge_agents\{agent="default"\} 1$/m);
    expect(texts.web).toMatch(/^agent_bridge_siwe_verifications_total\{outcome="ok"\} 1$/m);
    expect(texts.web).toMatch(/^agent_bridge_upgrades_rejected_total\{kind="client",status="401"\} 1$/m);
  });
});

test('SIGTERM: /readyz is 503 during the drain while /healthz is 200, then the process exits', async () => {
  expect((await fetch(`${stack.webUrl}/readyz`)).status).toBe(200);
  const stopped = stack.web.stop('SIGTERM');
  let sawDraining = false;
  for (let i = 0; i < 40 && !sawDraining; i++) {
    const ready = await fetch(`${stack.webUrl}/readyz`).catch(() => undefined);
    if (ready?.status === 503) {
      expect(((await ready.json()) as { reasons: string[] }).reasons).toContain('draining');
      expect((await fetch(`${stack.webUrl}/healthz`)).status).toBe(200);
      sawDraining = true;
    } else await new Promise((r) => setTimeout(r, 25));
  }
  expect(sawDraining).toBe(true);
  expect(await stopped).toBe(0);

  // the full run's logs hold no secret or token
  await stack.broker.stop('SIGTERM');
  await stack.agent.stop('SIGTERM');
  const logs = [stack.web, stack.broker, stack.agent].map((p) => p.logs()).join('\n');
  for (const [name, secret] of Object.entries(SECRETS)) expect(logs.includes(secret), `${name} in the logs`).toBe(false);
  // one line per event: every line is one JSON object
  for (const line of logs.split('\n').filter(Boolean)) expect(() => JSON.parse(line), line.slice(0, 120)).not.toThrow();
}, 20_000);
