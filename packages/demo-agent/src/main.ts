/**
 * The demo agent process: answers every client message with handleCommand, greets clients that
 * sign in with Ethereum. Settings: BROKER_URL, AGENT_TOKEN (the first one), DEMO_AGENT_NAME.
 */
import { DEFAULT_AGENT, createLogger, loadConfigOrExit } from '@agent-bridge/common';
import { prettyStream } from '@agent-bridge/common/pretty';
import { connectAgent } from '@agent-bridge/agent-sdk';
import { runDemoAgent } from './agent.ts';

const config = loadConfigOrExit('demo-agent');
const log = createLogger('demo-agent', { level: config.LOG_LEVEL, destination: config.LOG_FORMAT === 'pretty' ? prettyStream() : undefined });

const agent = connectAgent({
  url: config.BROKER_URLS,
  token: config.AGENT_TOKEN[0]!,
  name: process.env.DEMO_AGENT_NAME ?? DEFAULT_AGENT,
  logger: log,
  heartbeatTimeoutMs: config.HEARTBEAT_TIMEOUT_MS,
});
runDemoAgent(agent, log);

let stopping = false;
agent.on('close', ({ willReconnect, code, reason }) => {
  // Stopped by the bridge (bad token, policy close …): exit non-zero so a supervisor notices.
  if (!willReconnect && !stopping) {
    log.fatal({ code, reason }, 'the agent stopped and will not redial; exiting');
    process.exit(1);
  }
});

// SIGHUP too: a closed terminal must not leave the agent running.
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  process.once(signal, () => {
    stopping = true;
    log.info({ signal }, 'shutting down');
    agent.close().then(
      () => process.exit(0),
      () => process.exit(0),
    );
  });
}
