/** Wires the pure command handler to an SDK agent: the demo agent minus process concerns. */
import type { Agent } from '@agent-bridge/agent-sdk';
import type { Logger } from '@agent-bridge/common';
import { greeting, handleMessage } from './commands.ts';
import { handleRunMessage } from './runs.ts';

export function runDemoAgent(agent: Agent, log: Logger): void {
  let welcomedBefore = false;
  agent.on('welcome', (w) => {
    // The test harness and `pnpm dev` wait for a line containing "connected".
    log.info({ agent: w.agent, agentId: w.agentId, clients: w.clients.length }, welcomedBefore ? 'reconnected to the broker' : 'connected to the broker');
    welcomedBefore = true;
  });
  agent.on('message', (msg) => {
    if (handleRunMessage(agent, msg) !== undefined) return;
    const out = handleMessage(msg.data, {
      clientId: msg.clientId,
      address: msg.address,
      // A getter: the list is copied only for the commands that read it, not for every echo.
      get clients() {
        return [...agent.clients.values()];
      },
      now: new Date(),
    });
    try {
      if (out.broadcast !== undefined) agent.broadcast({ text: out.broadcast });
      if (out.reply !== undefined) agent.reply(msg, { text: out.reply });
    } catch (err) {
      // outbox_full while the broker is away: the client's message is lost with a log line, not a
      // crash. Code and text only: a stack per message would flood the log while it lasts.
      log.warn({ ...brief(err), clientId: msg.clientId }, 'could not answer');
    }
  });
  agent.on('client.authenticated', (e) => {
    try {
      agent.send(e.clientId, { text: greeting(e.address) });
    } catch (err) {
      log.warn({ ...brief(err), clientId: e.clientId }, 'could not greet');
    }
  });
  agent.on('error', (e) => log.warn({ code: e.code, ref: e.ref }, `bridge error: ${e.message}`));
  agent.on('unauthorized', (e) => log.error({ status: e.status }, 'the broker refused AGENT_TOKEN'));
}

/** An error as a log line's fields, without its stack. */
function brief(err: unknown): { code?: unknown; error: string } {
  const code = (err as { code?: unknown } | null)?.code;
  const error = err instanceof Error ? err.message : String(err);
  return code === undefined ? { error } : { code, error };
}
