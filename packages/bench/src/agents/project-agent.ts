/**
 * The project's agent for the bench, built on @agent-bridge/agent-sdk: echoes every client message
 * back to its sender, and broadcasts at a rate when the harness asks.
 */
import { connectAgent } from '@agent-bridge/agent-sdk';
import { emit, serve } from '../rpc.ts';
import { paced, type BroadcastArgs } from './pacer.ts';

const agent = connectAgent({
  url: process.env.BENCH_BROKER_WS!,
  token: process.env.BENCH_AGENT_TOKEN ?? 'dev_token',
  name: 'default',
  // The bench broadcasts in bursts; the SDK must not refuse them while it redials (storm).
  outboxLimit: 1_000_000,
});
agent.on('message', (m) => agent.reply(m, m.data));
agent.on('error', () => undefined);
let readyOnce = false;
agent.on('welcome', () => {
  if (!readyOnce) emit('ready');
  readyOnce = true;
});

serve({
  broadcast: (args: BroadcastArgs) => paced(args, (data) => agent.broadcast(data)),
  stop: () => agent.close(),
}, { keepAlive: true });
