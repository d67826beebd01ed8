/** The web server process: settings from the environment, one `listening` line, clean shutdown. */
import { createLogger, loadConfigOrExit } from '@agent-bridge/common';
import { startWebServer } from './server.ts';

const config = loadConfigOrExit('web-server');
const logger = createLogger('web-server', { level: config.LOG_LEVEL, pretty: config.LOG_FORMAT === 'pretty' });

/** SIGTERM must end the process within 5 s even if something hangs. */
const SHUTDOWN_DEADLINE_MS = 4000;

try {
  const server = await startWebServer(config, { logger });
  logger.info({ url: server.url, broker: config.BROKER_URL, static: config.STATIC_ROOT }, `listening on ${server.url}`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(0);
    }, SHUTDOWN_DEADLINE_MS).unref();
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(0);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
} catch (err) {
  const e = err as NodeJS.ErrnoException;
  process.stderr.write(`web-server: cannot start: ${e.code ?? ''} ${e.message}\n`);
  process.exit(1);
}
