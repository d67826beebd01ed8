/**
 * The project's agent for the bench, built on @agent-bridge/agent-sdk: echoes every client message
 * back to its sender, streams a run (`{stream}` requests, see streamer.ts) and broadcasts at a rate
 * when the harness asks.
 */
import { connectAgent } from '@agent-bridge/agent-sdk';
import { emit, serve } from '../rpc.ts';
import { paced, type BroadcastArgs } from './pacer.ts';
import { Streamer } from './streamer.ts';

const agent = connectAgent({
  url: process.env.BENCH_BROKER_WS!,
  token: process.env.BENCH_AGENT_TOKEN ?? 'dev_token',
  name: 'default',
  // The bench broadcasts in bursts; the SDK must not refuse them while it redials (storm).
  outboxLimit: 1_000_000,
  // §8 acks are the SDK's default; the agent-bridge-noacks target turns them off to price them.
  acks: process.env.BENCH_ACKS !== 'off',
});
const streamer = new Streamer();
agent.on('message', (m) => {
  const req = Streamer.request(m.data);
  if (!req) return agent.reply(m, m.data);
  // A streamed reply through the SDK's run writer: its default batching (≤ 1 frame per stream per 20 ms).
  const run = agent.run(m, req.batchMs === undefined ? {} : { batchMs: req.batchMs });
  streamer.start(req, { token: (t) => run.text(t), finish: () => run.finish() });
});
agent.on('error', () => undefined);
let readyOnce = false;
agent.on('welcome', () => {
  if (!readyOnce) emit('ready');
  readyOnce = true;
});

serve({
  broadcast: (args: BroadcastArgs) => paced(args, (data) => agent.broadcast(data)),
  streamEmissions: () => streamer.take(),
  stop: () => agent.close(),
}, { keepAlive: true });
