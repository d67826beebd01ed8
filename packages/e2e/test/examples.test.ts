// examples/*.mjs run verbatim (plain `node`, no TypeScript loader) against a real bridge, and
// the app reaches them by name: a browser message with `agent: "echo"`, and the Sploots
// conversation store's `@echo …` addressing, get the echo back from that agent.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { REPO_ROOT } from '@agent-bridge/common';
import { connectBrowser, registerClient, ServiceProcess, startStack, type Stack } from '@agent-bridge/testkit';

// The SPA's store and the browser client are browser code (DOM types): loaded at run time by a
// path the root type-check does not follow (packages/e2e is type-checked without the DOM lib).
interface Client {
  status: { state: string };
  close(): void;
}
interface Conversation {
  send(text: string, via: 'terminal' | 'chat'): string;
  allIds(): readonly string[];
  row(id: string): { kind: string; agent: string | null; text?: string } | undefined;
}
async function loadSpaStore(): Promise<{
  createBridgeClient: (opts: Record<string, unknown>) => Client;
  ConversationStore: new (client: Client, storage: undefined) => Conversation;
}> {
  const here = path.dirname(new URL(import.meta.url).pathname);
  const [bc, store] = await Promise.all([
    import(path.join(here, '../../browser-client/src/index.ts')),
    import(path.join(here, '../../sploots-app/src/store/conversation.ts')),
  ]);
  return { createBridgeClient: bc.createBridgeClient, ConversationStore: store.ConversationStore };
}

let stack: Stack;
const procs: ServiceProcess[] = [];

beforeAll(async () => {
  // The SDK example imports the built package (examples/ links to packages/agent-sdk/dist).
  execFileSync(process.execPath, ['scripts/build-packages.mjs', 'agent-sdk'], { cwd: REPO_ROOT, stdio: 'pipe' });
  stack = await startStack();
});
afterAll(async () => {
  for (const p of procs) await p.stop('SIGTERM', 5000).catch(() => undefined);
  await stack?.close();
});

function example(file: string, name: string): ServiceProcess {
  const p = new ServiceProcess({
    name,
    entry: path.join('examples', file),
    // Only what the README tells a user to set: nothing but where the broker is (tests use a free port).
    env: { BROKER_URL: stack.brokerWsUrl, AGENT_TOKEN: 'dev_token' },
    readyLine: /connected/,
  });
  procs.push(p);
  return p;
}

async function echoes(agentName: string): Promise<void> {
  const session = await registerClient(stack.webUrl);
  const ws = await connectBrowser(stack.webUrl, session);
  await ws.next('welcome');
  ws.send({ type: 'message', id: 'c-1', agent: agentName, data: { text: 'hello there' } });
  const reply = await ws.next('message');
  expect(reply).toMatchObject({ from: agentName, data: { text: 'echo: hello there' } });
  ws.close(1000);
}

test.each([
  ['echo-agent.mjs', 'echo'],
  ['echo-agent-raw.mjs', 'echo-raw'],
])('examples/%s answers as agent "%s" and stops on SIGTERM', async (file, agentName) => {
  const agent = example(file, agentName);
  await agent.start();
  expect(agent.logs()).toContain(`agent "${agentName}" connected`);
  await echoes(agentName);
  expect(await agent.stop('SIGTERM', 5000)).toBe(0);
});

test('examples/streaming-agent.mjs streams its answer as an AG-UI run, word by word', async () => {
  const agent = example('streaming-agent.mjs', 'streamer');
  agent.spec.env.TOKEN_DELAY_MS = '5';
  await agent.start();
  const session = await registerClient(stack.webUrl);
  const ws = await connectBrowser(stack.webUrl, session);
  await ws.next('welcome');
  ws.send({ type: 'message', id: 'c-1', agent: 'streamer', data: { text: 'why?' } });
  const runType = (t: string) => (f: { type: string; data?: { type?: string } }) => f.type === 'message' && f.data?.type === t;
  const started = await ws.next(runType('RUN_STARTED'));
  await ws.next(runType('RUN_FINISHED'));
  const text = ws
    .all(runType('TEXT_MESSAGE_CONTENT'))
    .map((f) => f.data.delta as string)
    .join('');
  expect(text).toBe('You asked: "why?". Here is the answer, one word at a time, as a model would stream it.');
  // Several frames, not one: it streamed.
  expect(ws.all(runType('TEXT_MESSAGE_CONTENT')).length).toBeGreaterThan(3);
  expect(started).toMatchObject({ from: 'streamer', data: { threadId: session.clientId } });
  ws.close(1000);
  expect(await agent.stop('SIGTERM', 5000)).toBe(0);
});

test('the app reaches a named agent: "@echo hi" in the conversation store goes to agent echo', async () => {
  const agent = example('echo-agent.mjs', 'echo');
  await agent.start();
  const { createBridgeClient, ConversationStore } = await loadSpaStore();
  const client = createBridgeClient({ baseUrl: stack.webUrl, storage: null, WebSocketImpl: WebSocket });
  const conversation = new ConversationStore(client, undefined);
  await expect.poll(() => client.status.state, { timeout: 5000 }).toBe('connected');
  conversation.send('@echo hi from the terminal', 'terminal');
  await expect
    .poll(() => conversation.allIds().map((id) => conversation.row(id)).find((r) => r?.kind === 'in'), { timeout: 5000, message: 'the echo' })
    .toMatchObject({ agent: 'echo', text: 'echo: hi from the terminal' });
  client.close();
  await agent.stop('SIGTERM', 5000);
});
