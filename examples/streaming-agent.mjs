// A streaming agent: each answer goes out word by word as an AG-UI run (RUN_STARTED,
// TEXT_MESSAGE_CONTENT …, RUN_FINISHED), the way a model's tokens would. The Sploots app shows
// the text as it grows; a client's `cancel` (Stop) ends the run. Start a bridge, then:
//   node examples/streaming-agent.mjs
// and type `@streamer tell me something` in the app.
import { connectAgent } from '@agent-bridge/agent-sdk';

const agent = connectAgent({
  url: process.env.BROKER_URL ?? 'ws://127.0.0.1:8080',
  token: process.env.AGENT_TOKEN ?? 'dev_token',
  name: process.env.AGENT_NAME ?? 'streamer',
});
const delayMs = Number(process.env.TOKEN_DELAY_MS ?? 80);
const sleep = (ms, signal) => new Promise((resolve) => {
  const t = setTimeout(resolve, ms);
  signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
});

agent.on('welcome', (w) => console.log(`agent "${w.agent}" connected; ${w.clients.length} client(s) known`));
agent.on('message', async (msg) => {
  const asked = typeof msg.data?.text === 'string' ? msg.data.text : JSON.stringify(msg.data);
  const run = agent.run(msg, { threadId: msg.clientId });
  const words = `You asked: "${asked}". Here is the answer, one word at a time, as a model would stream it.`.split(' ');
  for (const [i, word] of words.entries()) {
    if (run.signal.aborted) return; // the client pressed Stop: the run already ended as cancelled
    run.text(i === 0 ? word : ` ${word}`);
    await sleep(delayMs, run.signal);
  }
  run.finish();
});
agent.on('unauthorized', (e) => console.error(`refused: ${e.message} (check AGENT_TOKEN)`));

let stopping = false;
agent.on('close', (e) => e.willReconnect || process.exit(stopping ? 0 : 1));
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    stopping = true;
    void agent.close();
  });
}
