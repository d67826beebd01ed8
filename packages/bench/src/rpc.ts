/**
 * The tiny control channel between the harness and its children (Node IPC): requests
 * `{rpc, cmd, args}` answered by `{rpc, ok, result|error}`, and one-way `{event, data}`.
 * Every child (services too, through the preloaded probe) serves commands with `serve()`.
 */
export interface RpcRequest {
  rpc: number;
  cmd: string;
  args?: unknown;
}
export interface RpcResponse {
  rpc: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}
export interface RpcEvent {
  event: string;
  data?: unknown;
}

type Handler = (args: any) => unknown;
const handlers = new Map<string, Handler>();
let installed = false;

type Channel = { ref?: () => void; unref?: () => void } | undefined;

/**
 * Register command handlers in this child process. `keepAlive`: the channel keeps the process
 * running (load generator, agents); services have their own servers for that.
 */
export function serve(table: Record<string, Handler>, opts: { keepAlive?: boolean } = {}): void {
  for (const [k, v] of Object.entries(table)) handlers.set(k, v);
  if (opts.keepAlive) (process.channel as Channel)?.ref?.();
  if (installed || !process.send) return;
  installed = true;
  process.on('message', (msg: RpcRequest) => {
    if (!msg || typeof msg !== 'object' || typeof msg.rpc !== 'number') return;
    const h = handlers.get(msg.cmd);
    if (!h) return reply({ rpc: msg.rpc, ok: false, error: `unknown command ${msg.cmd}` });
    Promise.resolve()
      .then(() => h(msg.args))
      .then(
        (result) => reply({ rpc: msg.rpc, ok: true, result }),
        (err: unknown) => reply({ rpc: msg.rpc, ok: false, error: err instanceof Error ? err.stack ?? err.message : String(err) }),
      );
  });
  // The harness going away (even SIGKILLed) ends every child: nothing outlives a bench run.
  process.on('disconnect', () => process.exit(0));
  // The channel must not keep an otherwise finished process alive.
  if (!opts.keepAlive) (process.channel as Channel)?.unref?.();
}

function reply(r: RpcResponse): void {
  if (process.connected) process.send!(r);
}

/** One-way notification to the harness. */
export function emit(event: string, data?: unknown): void {
  if (process.connected) process.send!({ event, data } satisfies RpcEvent);
}
