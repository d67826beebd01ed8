/**
 * Broker process: settings, logger, startBroker; SIGTERM/SIGINT close every socket with 1001 and
 * exit 0 within 5 s.
 */
import { createLogger, loadConfigOrExit } from '@agent-bridge/common';
import { startBroker } from './server.ts';

const SHUTDOWN_DEADLINE_MS = 4500;

const config = loadConfigOrExit('broker');
const log = createLogger('broker', { level: config.LOG_LEVEL, pretty: config.LOG_FORMAT === 'pretty' });

try {
  const broker = await startBroker(config, { logger: log });
  log.info({ url: broker.url, epoch: broker.epoch }, `broker listening on ${broker.url}`);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'broker shutting down');
    setTimeout(() => {
      log.warn('shutdown took too long; exiting');
      process.exit(0);
    }, SHUTDOWN_DEADLINE_MS).unref();
    broker.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
} catch (err) {
  log.fatal({ err }, 'broker failed to start');
  process.exit(1);
}
