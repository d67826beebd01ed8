/**
 * The Socket.IO comparator's server in the broker's role: websocket transport only, agents in
 * the `agents` room, clients in `clients`; each socket's own room (its id) routes replies.
 */
import http from 'node:http';
import { Server } from 'socket.io';

const port = Number(process.env.BENCH_PORT);
const agentToken = process.env.BENCH_AGENT_TOKEN ?? 'dev_token';
const server = http.createServer();
const io = new Server(server, { transports: ['websocket'], serveClient: false, maxHttpBufferSize: 65536 });

io.on('connection', (socket) => {
  const auth = socket.handshake.auth as { role?: string; token?: string };
  if (auth.role === 'agent' && auth.token === agentToken) {
    socket.join('agents');
    socket.on('reply', (to: string, data: unknown) => io.to(to).emit('message', data));
    socket.on('broadcast', (data: unknown) => io.to('clients').emit('message', data));
    return;
  }
  socket.join('clients');
  socket.on('message', (data: unknown) => io.to('agents').emit('client.message', socket.id, data));
});
server.listen(port, '127.0.0.1', () => console.log(`socket.io server listening on http://127.0.0.1:${port}`));
process.on('SIGTERM', () => {
  // Not awaited: the timer below ends the process either way.
  void io.close();
  setTimeout(() => process.exit(0), 500).unref();
});
