/**
 * Property-based fuzzing of the broker's parsers (issue 9), against the real broker process and
 * the real demo agent: an attacker client (as the web server would connect it, with the proxy
 * token) and an attacker agent send random and mutated frames; every bad frame gets an `error`
 * with a documented code (the one the shared parser names), nothing is answered `internal`,
 * nothing logs a stack, no process dies, and a bystander's echo through the demo agent keeps
 * answering within a generous bound meanwhile. Then the identity endpoint's HTTP bodies.
 * Seed: FUZZ_SEED (default in fuzz-helpers.ts), printed by fast-check with any counterexample.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import WebSocket from 'ws';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { rawRequest, startStack, type Stack } from '@agent-bridge/testkit';
import {
  Attacker,
  Bystander,
  FUZZ_SEED,
  assertAnswered,
  assertHttpAnswer,
  codeCounts,
  contentTypes,
  fuzzFrames,
  fuzzParams,
  junkBody,
  pct,
  stackLines,
  validAgentFrame,
  validClientFrame,
  weirdValue,
} from './fuzz-helpers.ts';

const PROXY = 'dev_proxy_token';
const ADDRESS = '0x52908400098527886E0F7030069857D2E4169EE7';
/** Generous: a shared 2-core machine, three processes, two attackers flooding. */
const BYSTANDER_MAX_RTT_MS = 2500;

let stack: Stack;
const attackerClientId = randomUUID();
const bystanderId = randomUUID();
let attackerClient: Attacker;
let attackerAgent: Attacker;
let bystanderWs: WebSocket;

function dialClient(clientId: string): WebSocket {
  return new WebSocket(`${stack.brokerWsUrl}/ws/client/${clientId}`, { headers: { authorization: `Bearer ${PROXY}` } });
}

beforeAll(async () => {
  stack = await startStack({
    web: false,
    agent: true,
    // The parsers are the target, not the rate limiter (it has its own tests).
    env: { CLIENT_RATE_PER_SEC: '100000', CLIENT_RATE_BURST: '100000' },
  });
  attackerClient = new Attacker(
    () => dialClient(attackerClientId),
    (ref) => JSON.stringify({ type: 'message', id: ref, agent: 'not a name!', data: 0 }),
  );
  attackerAgent = new Attacker(
    () => new WebSocket(`${stack.brokerWsUrl}/ws/agent`, { headers: { authorization: 'Bearer dev_token', 'x-agent-name': 'fuzzer' } }),
    (ref) => JSON.stringify({ type: 'send', id: ref, to: [], data: 0 }),
  );
  await Promise.all([attackerClient.open(), attackerAgent.open()]);
  bystanderWs = dialClient(bystanderId);
  await new Promise((resolve, reject) => {
    bystanderWs.once('message', resolve); // the welcome
    bystanderWs.once('error', reject);
  });
}, 30_000);

afterAll(async () => {
  attackerClient?.close();
  attackerAgent?.close();
  bystanderWs?.terminate();
  await stack?.close();
});

test('random and mutated client and agent frames: documented errors only, no crash, the bystander unaffected', async () => {
  const bystander = new Bystander(bystanderWs);
  bystander.start(BYSTANDER_MAX_RTT_MS * 2);
  const clientRuns = fc.assert(
    fc.asyncProperty(fuzzFrames(validClientFrame(['fuzzer', 'default', 'absent-agent'])), async (frame) => {
      assertAnswered(frame, 'client', await attackerClient.check(frame));
    }),
    fuzzParams(2500, 8000),
  );
  const agentRuns = fc.assert(
    fc.asyncProperty(fuzzFrames(validAgentFrame([attackerClientId, bystanderId])), async (frame) => {
      assertAnswered(frame, 'agent', await attackerAgent.check(frame));
    }),
    fuzzParams(2500, 8000),
  );
  const outcomes = await Promise.allSettled([clientRuns, agentRuns]);
  const rtt = await bystander.stop();
  console.info(
    `fuzz-broker seed=${FUZZ_SEED} bystander echo: ${rtt.count} round trips, p50 ${rtt.p50.toFixed(1)} ms, max ${rtt.max.toFixed(1)} ms;`,
    `client: ${attackerClient.checked} frames, errors ${JSON.stringify(codeCounts(attackerClient.errors))};`,
    `agent: ${attackerAgent.checked} frames, errors ${JSON.stringify(codeCounts(attackerAgent.errors))}`,
  );
  // A counterexample first (fast-check's message names the seed and the frame).
  for (const o of outcomes) if (o.status === 'rejected') throw o.reason;
  expect(bystander.failure).toBeUndefined();
  expect(rtt.count).toBeGreaterThan(10);
  expect(rtt.max).toBeLessThan(BYSTANDER_MAX_RTT_MS);
  expect(Math.min(attackerClient.checked, attackerAgent.checked)).toBeGreaterThan(200);
  expect(attackerClient.errors.length).toBeGreaterThan(100);
  expect(attackerAgent.errors.length).toBeGreaterThan(100);
  expect([...attackerClient.errors, ...attackerAgent.errors].filter((e) => e.code === 'internal')).toEqual([]);
}, 25_000);

test('~5,000-deep JSON from a client and an agent is invalid_message, not internal', async () => {
  const deep = (type: string) => `{"type":"${type}","id":"deep","to":"x","data":${'['.repeat(5000)}${']'.repeat(5000)}}`;
  const answers = (errors: { ref?: string }[]) => errors.filter((e) => e.ref === 'deep');
  expect(answers(await attackerClient.check({ kind: 'text', text: deep('message') }))).toEqual([
    expect.objectContaining({ type: 'error', code: 'invalid_message', ref: 'deep' }),
  ]);
  for (const type of ['send', 'broadcast']) {
    expect(answers(await attackerAgent.check({ kind: 'text', text: deep(type) }))).toEqual([
      expect.objectContaining({ type: 'error', code: 'invalid_message', ref: 'deep' }),
    ]);
  }
});

test('frames the socket layer refuses close only that socket, with a documented code', async () => {
  // Over MAX_MESSAGE_BYTES: 1009.
  for (const attacker of [attackerClient, attackerAgent]) {
    const closed = new Promise<number>((r) => attacker.socket.once('close', (code) => r(code)));
    attacker.socket.send('x'.repeat(70_000));
    expect(await closed).toBe(1009);
  }
  // Not UTF-8 in a text frame: the WebSocket layer closes with 1007 (invalid payload data).
  for (const attacker of [attackerClient, attackerAgent]) {
    await attacker.open();
    const closed = new Promise<number>((r) => attacker.socket.once('close', (code) => r(code)));
    attacker.socket.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    expect(await closed).toBe(1007);
  }
  expect(stack.broker.running).toBe(true);
});

test("the identity endpoint's bodies and paths: never a 5xx", async () => {
  const body = fc.oneof(
    fc.record({ address: fc.oneof(fc.constant(ADDRESS), fc.constant(null), weirdValue) }).map((b) => JSON.stringify(b)),
    junkBody,
  );
  const id = fc.oneof(
    fc.constant(attackerClientId),
    fc.uuid(),
    fc.string({ unit: 'binary', maxLength: 40 }).map(pct),
    fc.constantFrom('%', '%zz', '%00', '%2F', '..', '%2e%2e', 'x'.repeat(300), '%F0%9F%A6%80', '%ED%A0%80'),
  );
  await fc.assert(
    fc.asyncProperty(id, body, contentTypes, fc.boolean(), async (clientId, payload, type, authed) => {
      const headers: Record<string, string> = {};
      if (authed) headers.authorization = `Bearer ${PROXY}`;
      if (type) headers['content-type'] = type;
      const answer = await rawRequest(stack.brokerUrl, `/internal/clients/${clientId}/identity`, { method: 'POST', headers, body: payload });
      assertHttpAnswer(answer, `POST identity ${clientId.slice(0, 60)} ${String(payload).slice(0, 80)}`, [204, 400, 401, 404, 413]);
    }),
    fuzzParams(1000, 4000),
  );
});

test('afterwards: every process is up, healthy, and no stack trace was logged', async () => {
  expect(stack.broker.running).toBe(true);
  expect(stack.agent.running).toBe(true);
  expect((await fetch(`${stack.brokerUrl}/healthz`)).status).toBe(200);
  expect(stackLines(stack.broker.logs())).toEqual([]);
  expect(stackLines(stack.agent.logs())).toEqual([]);
});
