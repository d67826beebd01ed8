/**
 * Raw relay, broker side: the floor of what a relay costs. Plain `ws`, no JSON parsing, no
 * sessions: a client's frame goes to the agent as `<clientId>\n<bytes>`; the agent's
 * `<clientId>\n<bytes>` goes to that client, `*\n<bytes>` to every client.
 */
import { WebSocketServer, type WebSocket } from 'ws';

const port = Number(process.env.BENCH_PORT);
const clients = new Map<string, WebSocket>();
let agent: WebSocket | undefined;
const NL = 0x0a;

const wss = new WebSocketServer({ host: '127.0.0.1', port, maxPayload: 65536 });
wss.on('connection', (ws, req) => {
  ws.on('error', () => undefined);
  const url = req.url ?? '';
  if (url.startsWith('/agent')) {
    agent = ws;
    ws.on('message', (data: Buffer) => {
      const i = data.indexOf(NL);
      if (i < 0) return;
      const payload = data.subarray(i + 1);
      if (i === 1 && data[0] === 0x2a /* * */) {
        for (const c of clients.values()) c.send(payload, { binary: false });
      } else {
        clients.get(data.toString('latin1', 0, i))?.send(payload, { binary: false });
      }
    });
    ws.on('close', () => {
      if (agent === ws) agent = undefined;
    });
    return;
  }
  const id = decodeURIComponent(url.slice('/client/'.length));
  const prefix = Buffer.from(`${id}\n`, 'latin1');
  clients.set(id, ws);
  ws.on('message', (data: Buffer) => agent?.send(Buffer.concat([prefix, data]), { binary: false }));
  ws.on('close', () => {
    if (clients.get(id) === ws) clients.delete(id);
  });
});
wss.on('listening', () => console.log(`raw broker listening on http://127.0.0.1:${port}`));
process.on('SIGTERM', () => {
  for (const c of wss.clients) c.close(1001);
  wss.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
});
