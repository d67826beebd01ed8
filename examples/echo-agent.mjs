// An echo agent on the SDK. Start a bridge (`pnpm start` or `pnpm dev`), then:
//   node examples/echo-agent.mjs
// and in the app (http://127.0.0.1:8081) type `@echo hello`. Outside this repository the import
// is the same after `npm install @agent-bridge/agent-sdk`.
import { connectAgent } from '@agent-bridge/agent-sdk';

const agent = connectAgent({
  url: process.env.BROKER_URL ?? 'ws://127.0.0.1:8080',
  token: process.env.AGENT_TOKEN ?? 'dev_token',
  // Not `default`: that name is the demo agent's, and two agents of one name share the clients.
  name: process.env.AGENT_NAME ?? 'echo',
});

agent.on('welcome', (w) => console.log(`agent "${w.agent}" connected; ${w.clients.length} client(s) known`));
agent.on('message', (msg) => {
  const text = typeof msg.data?.text === 'string' ? msg.data.text : JSON.stringify(msg.data);
  agent.reply(msg, { text: `echo: ${text}` });
});
agent.on('unauthorized', (e) => console.error(`refused: ${e.message} (check AGENT_TOKEN)`));

// The SDK redials by itself; `willReconnect: false` means it has stopped for good.
let stopping = false;
agent.on('close', (e) => e.willReconnect || process.exit(stopping ? 0 : 1));
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    stopping = true;
    void agent.close();
  });
}
