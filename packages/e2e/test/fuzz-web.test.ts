/**
 * Property-based fuzzing through the web server (issue 9), against the real processes (broker,
 * web server, demo agent): an attacker browser sends random and mutated frames through the pipe
 * (binary ones are answered by the web server itself, the rest by the broker); every bad frame
 * gets an `error` with a documented code, nothing is answered `internal`, no stack is logged, no
 * process dies, and a bystander browser's echo through the demo agent stays within a generous
 * bound. Then every HTTP input an anonymous browser controls: POST /api/clients, POST
 * /auth/verify bodies, /auth/challenge queries, /api/me headers and /ws upgrade queries — never a
 * 5xx. Seed: FUZZ_SEED (default in fuzz-helpers.ts), printed by fast-check with any counterexample.
 */
import fc from 'fast-check';
import WebSocket from 'ws';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { rawRequest, registerClient, startStack, type Session, type Stack } from '@agent-bridge/testkit';
import {
  Attacker,
  Bystander,
  FUZZ_SEED,
  assertAnswered,
  assertHttpAnswer,
  codeCounts,
  contentEncodings,
  contentTypes,
  fuzzFrames,
  fuzzParams,
  junkBody,
  pathSafe,
  pct,
  stackLines,
  validClientFrame,
  weirdValue,
} from './fuzz-helpers.ts';

const BYSTANDER_MAX_RTT_MS = 2500;
const ADDRESS = '0x52908400098527886E0F7030069857D2E4169EE7';

let stack: Stack;
let attacker: Attacker;
let attackerSession: Session;
let bystanderWs: WebSocket;
let challenge: { message: string; nonce: string };

function dialBrowser(session: Session): WebSocket {
  return new WebSocket(`${stack.webWsUrl}/ws/${session.clientId}?token=${encodeURIComponent(session.token)}`);
}

beforeAll(async () => {
  stack = await startStack({
    agent: true,
    // The parsers are the target, not the rate limits and budgets (they have their own tests).
    env: {
      CLIENT_RATE_PER_SEC: '100000',
      CLIENT_RATE_BURST: '100000',
      SIWE_NONCES_PER_IP: '100000',
      WS_UPGRADES_PER_MIN_PER_IP: '100000',
      WS_UPGRADES_PER_MIN_PER_CLIENT: '100000',
    },
  });
  attackerSession = await registerClient(stack.webUrl);
  attacker = new Attacker(
    () => dialBrowser(attackerSession),
    (ref) => JSON.stringify({ type: 'message', id: ref, agent: 'not a name!', data: 0 }),
  );
  await attacker.open();
  bystanderWs = dialBrowser(await registerClient(stack.webUrl));
  await new Promise((resolve, reject) => {
    bystanderWs.once('message', resolve); // the welcome
    bystanderWs.once('error', reject);
  });
  const res = await fetch(`${stack.webUrl}/auth/challenge?address=${ADDRESS}`);
  challenge = (await res.json()) as { message: string; nonce: string };
}, 30_000);

afterAll(async () => {
  attacker?.close();
  bystanderWs?.terminate();
  await stack?.close();
});

test('random and mutated browser frames through the web server: documented errors only, no crash, the bystander unaffected', async () => {
  const bystander = new Bystander(bystanderWs);
  bystander.start(BYSTANDER_MAX_RTT_MS * 2);
  const outcome = await fc
    .assert(
      fc.asyncProperty(fuzzFrames(validClientFrame(['default', 'absent-agent'])), async (frame) => {
        assertAnswered(frame, 'client', await attacker.check(frame));
      }),
      fuzzParams(1200, 6000),
    )
    .then(
      () => undefined,
      (err: unknown) => err,
    );
  const rtt = await bystander.stop();
  console.info(
    `fuzz-web seed=${FUZZ_SEED} bystander echo: ${rtt.count} round trips, p50 ${rtt.p50.toFixed(1)} ms, max ${rtt.max.toFixed(1)} ms;`,
    `${attacker.checked} frames, attacker errors ${JSON.stringify(codeCounts(attacker.errors))}`,
  );
  if (outcome) throw outcome;
  expect(bystander.failure).toBeUndefined();
  expect(rtt.count).toBeGreaterThan(10);
  expect(rtt.max).toBeLessThan(BYSTANDER_MAX_RTT_MS);
  // Bounded by time on a slow machine, but never a token run.
  expect(attacker.checked).toBeGreaterThan(100);
  expect(attacker.errors.length).toBeGreaterThan(100);
}, 25_000);

test('~5,000-deep JSON through the web server is invalid_message, not internal', async () => {
  const text = `{"type":"message","id":"deep","data":${'['.repeat(5000)}${']'.repeat(5000)}}`;
  const errors = (await attacker.check({ kind: 'text', text })).filter((e) => e.ref === 'deep');
  expect(errors).toEqual([expect.objectContaining({ type: 'error', code: 'invalid_message', ref: 'deep' })]);
});

test('frames the socket layer refuses close only that browser socket, with a documented code', async () => {
  let closed = new Promise<number>((r) => attacker.socket.once('close', (code) => r(code)));
  attacker.socket.send('x'.repeat(70_000));
  expect(await closed).toBe(1009);
  await attacker.open();
  closed = new Promise<number>((r) => attacker.socket.once('close', (code) => r(code)));
  attacker.socket.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
  expect(await closed).toBe(1007);
  expect(stack.web.running).toBe(true);
  expect(stack.broker.running).toBe(true);
});

test('POST /api/clients: any body, type, encoding and origin is a documented answer, never a 5xx', async () => {
  const origin = fc.constantFrom(undefined, undefined, stack.webUrl, 'https://evil.example', 'null', '', 'http://127.0.0.1:1');
  await fc.assert(
    fc.asyncProperty(fc.option(junkBody, { freq: 4 }), contentTypes, contentEncodings, origin, async (body, type, encoding, from) => {
      const headers: Record<string, string> = {};
      if (type) headers['content-type'] = type;
      if (encoding) headers['content-encoding'] = encoding;
      if (from !== undefined) headers.origin = from;
      const answer = await rawRequest(stack.webUrl, '/api/clients', { method: 'POST', headers, ...(body === null ? {} : { body }) });
      assertHttpAnswer(answer, `POST /api/clients ${JSON.stringify(headers)} ${String(body).slice(0, 80)}`, [201, 400, 403, 413, 415]);
    }),
    fuzzParams(500, 2500),
  );
});

test('POST /auth/verify: mutated sign-in bodies are 4xx, never a 5xx', async () => {
  const hex = (n: number) => fc.uint8Array({ minLength: n, maxLength: n }).map((b) => `0x${Buffer.from(b).toString('hex')}`);
  const message = fc.oneof(
    fc.constant(challenge.message),
    // The issued message with one line changed, cut or added.
    fc.tuple(fc.nat(), fc.string({ unit: 'binary', maxLength: 60 })).map(([i, s]) => {
      const lines = challenge.message.split('\n');
      lines[i % lines.length] = s;
      return lines.join('\n');
    }),
    fc.nat().map((i) => challenge.message.slice(0, i % (challenge.message.length + 1))),
    fc.string({ unit: 'binary', maxLength: 300 }),
    fc.constant('x'.repeat(5000)),
    weirdValue,
  );
  const signature = fc.oneof(hex(65), hex(64), hex(66), fc.string({ maxLength: 140 }), weirdValue);
  const verifyBody = fc.record(
    { message, signature, clientId: fc.oneof(fc.uuid(), fc.constant(attackerSession.clientId), weirdValue), token: fc.oneof(fc.string(), fc.constant(attackerSession.token), weirdValue) },
    { requiredKeys: [] },
  );
  const body = fc.oneof({ weight: 4, arbitrary: verifyBody.map((b) => JSON.stringify(b)) }, { weight: 1, arbitrary: junkBody });
  await fc.assert(
    fc.asyncProperty(body, fc.oneof(fc.constant('application/json'), contentTypes), contentEncodings, async (payload, type, encoding) => {
      const headers: Record<string, string> = {};
      if (type) headers['content-type'] = type;
      if (encoding) headers['content-encoding'] = encoding;
      const answer = await rawRequest(stack.webUrl, '/auth/verify', { method: 'POST', headers, body: payload });
      assertHttpAnswer(answer, `POST /auth/verify ${JSON.stringify(headers)} ${String(payload).slice(0, 120)}`, [400, 401, 403, 413, 415]);
    }),
    fuzzParams(500, 2500),
  );
});

test('GET /auth/challenge, /api/me and /ws upgrades: random queries and headers, never a 5xx', async () => {
  const value = fc.oneof(
    fc.constantFrom(ADDRESS, ADDRESS.toLowerCase(), ADDRESS.replace('E', 'e'), '0x', '0x' + 'g'.repeat(40), '1', '01', '1e3', '-1', '999999999999999999999', ''),
    fc.string({ unit: 'binary', maxLength: 50 }).map(pct),
    fc.string({ maxLength: 50 }).map(pathSafe),
    fc.constantFrom('%', '%zz', '%00', '%ED%A0%80', 'x'.repeat(3000)),
  );
  const key = fc.constantFrom('address', 'chainId', 'token', 'lastSeq', 'epoch', 'address[]', 'chainId[x]', '%74oken', '__proto__', 'a');
  const query = fc.array(fc.tuple(key, value), { maxLength: 5 }).map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join('&'));
  const wsPath = fc.oneof(fc.uuid(), fc.constant(attackerSession.clientId), fc.string({ maxLength: 30 }).map(pathSafe), fc.constantFrom('%', '..', '%2F', 'a/b'));
  const auth = fc.oneof(fc.constant(undefined), fc.string({ maxLength: 60 }).map((s) => `Bearer ${s}`), fc.constantFrom('Bearer', 'Basic x', `Bearer ${attackerSession.token}x`));
  await fc.assert(
    fc.asyncProperty(fc.constantFrom('challenge', 'me', 'ws'), query, wsPath, auth, async (which, q, id, authorization) => {
      if (which === 'challenge') {
        const answer = await rawRequest(stack.webUrl, `/auth/challenge?${q}`);
        assertHttpAnswer(answer, `GET /auth/challenge?${q.slice(0, 200)}`, [200, 400, 429]);
      } else if (which === 'me') {
        const answer = await rawRequest(stack.webUrl, `/api/me?${q}`, authorization ? { headers: { authorization } } : {});
        assertHttpAnswer(answer, `GET /api/me ${authorization}`, [200, 401]);
      } else {
        const headers = { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' };
        const answer = await rawRequest(stack.webUrl, `/ws/${id}?${q}`, { headers });
        assertHttpAnswer(answer, `upgrade /ws/${id}?${q.slice(0, 200)}`, [400, 401, 403, 404, 429]);
      }
    }),
    fuzzParams(800, 3000),
  );
});

test('afterwards: every process is up, healthy, and no stack trace was logged', async () => {
  expect(stack.broker.running).toBe(true);
  expect(stack.web.running).toBe(true);
  expect(stack.agent.running).toBe(true);
  expect((await fetch(`${stack.webUrl}/healthz`)).status).toBe(200);
  expect(stackLines(stack.web.logs())).toEqual([]);
  expect(stackLines(stack.broker.logs())).toEqual([]);
  expect(stackLines(stack.agent.logs())).toEqual([]);
});
