/** The paced tool's agent: the SDK, echoing every client message (acks as PACED_ACKS says). */
import { connectAgent } from '@agent-bridge/agent-sdk';

const agent = connectAgent({
  url: process.env.PACED_BROKER!,
  token: process.env.AGENT_TOKEN!,
  name: 'default',
  outboxLimit: 1_000_000,
  acks: process.env.PACED_ACKS !== 'off',
});
agent.on('message', (m) => {
  agent.reply(m, m.data);
});
agent.on('error', () => undefined);
agent.on('welcome', () => console.log('AGENT READY'));
