// The same echo agent on a raw WebSocket (`ws`), to read before writing one in another language.
// The SDK adds redial with backoff, a silence watchdog and an outbox on top of this.
//   node examples/echo-agent-raw.mjs
import WebSocket from 'ws';

const url = `${process.env.BROKER_URL ?? 'ws://127.0.0.1:8080'}/ws/agent`;
const name = process.env.AGENT_NAME ?? 'echo-raw';
let counter = 0;

const ws = new WebSocket(url, {
  headers: { Authorization: `Bearer ${process.env.AGENT_TOKEN ?? 'dev_token'}`, 'X-Agent-Name': name },
});

// A refused upgrade is an HTTP answer, not a WebSocket close: 401 means a wrong AGENT_TOKEN.
ws.on('unexpected-response', (_req, res) => {
  console.error(`refused with HTTP ${res.statusCode} (check AGENT_TOKEN and the URL)`);
  process.exit(1);
});
ws.on('error', (err) => console.error(`cannot reach ${url}: ${err.message}`));

ws.on('message', (raw) => {
  const frame = JSON.parse(raw.toString());
  switch (frame.type) {
    case 'welcome': // {"type":"welcome","agent","agentId","clients":[{"clientId","address"}]}
      console.log(`agent "${frame.agent}" connected; ${frame.clients.length} client(s) known`);
      break;
    case 'client.message': { // {"type":"client.message","id","ref","clientId","address","data","ts"}
      const text = typeof frame.data?.text === 'string' ? frame.data.text : JSON.stringify(frame.data);
      ws.send(JSON.stringify({ type: 'send', id: `a-${++counter}`, to: frame.clientId, data: { text: `echo: ${text}` } }));
      break;
    }
    case 'error': // {"type":"error","code","message","ref"}: e.g. unknown_client for a client that has gone
      console.warn(`bridge error ${frame.code}: ${frame.message}`);
      break;
    // 'system' frames report clients connecting, dropping, expiring and signing in.
  }
});

// No redial here: a real agent reconnects with backoff unless the close code says not to
// (1000, 1008, 1009, 4500-4999; see docs/protocol.md).
ws.on('close', (code) => {
  console.log(`closed (${code})`);
  process.exit(code === 1000 ? 0 : 1);
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => ws.close(1000, 'agent stopping'));
