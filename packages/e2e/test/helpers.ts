import { connectBrowser, connectRawAgent, registerClient, type Frame, type Stack, type TestSocket } from '@agent-bridge/testkit';

/** Texts of the `message` frames a client received, in arrival order. */
export function texts(frames: Frame[]): string[] {
  return frames.filter((f) => f.type === 'message').map((f) => (f.data as { text: string }).text);
}

/** Seqs of the seq'd frames a client received, in arrival order. */
export function seqs(frames: Frame[]): number[] {
  return frames.filter((f) => typeof f.seq === 'number').map((f) => f.seq as number);
}

/** Highest seq seen and the epoch of the last welcome / bridge.reconnected, as a browser keeps them. */
export function resumePoint(sock: TestSocket): { lastSeq: number; epoch: string } {
  let lastSeq = 0;
  let epoch = '';
  for (const f of sock.frames) {
    if (typeof f.seq === 'number') lastSeq = Math.max(lastSeq, f.seq);
    if (f.type === 'welcome' || (f.type === 'system' && f.event === 'bridge.reconnected')) epoch = String(f.epoch);
  }
  return { lastSeq, epoch };
}

/** An agent echo loop on a raw agent socket: every client.message is sent back as {text}. */
export function echoAgent(agent: TestSocket): () => void {
  const onMessage = (raw: Buffer) => {
    const f = JSON.parse(raw.toString()) as Frame;
    if (f.type === 'client.message') agent.send({ type: 'send', to: f.clientId, data: f.data });
  };
  agent.ws.on('message', onMessage);
  return () => agent.ws.off('message', onMessage);
}

/** The usual cast of a failure test: a raw agent on the broker and one browser through the web server, both welcomed. */
export async function agentAndBrowser(stack: Stack) {
  const agent = await connectRawAgent(stack.brokerUrl);
  await agent.next('welcome');
  const session = await registerClient(stack.webUrl);
  const ws = await connectBrowser(stack.webUrl, session);
  const welcome = await ws.next('welcome');
  return { agent, session, ws, welcome };
}
