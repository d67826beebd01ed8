/**
 * The life of a service process, written once for the broker and the web server: settings (one
 * clear line and exit 1 when bad), a logger, one `listening` line with the URL, and SIGTERM /
 * SIGINT → graceful close, exit 0 within 5 s even if something hangs.
 */
import { type Config, loadConfigOrExit } from './config.ts';
import { createLogger, type Logger } from './logger.ts';

export interface RunningService {
  url: string;
  close(): Promise<void>;
}

export interface ServiceDefinition<S extends RunningService> {
  /** Name in logs and in the stderr line of a bad setting. */
  name: string;
  start(config: Config, logger: Logger): Promise<S>;
  /** The ready line; must contain "listening" and the URL. */
  listening(service: S, config: Config): { fields?: Record<string, unknown>; msg: string };
  /** The close must be over before this, whatever hangs. */
  shutdownDeadlineMs?: number;
}

export async function runService<S extends RunningService>(def: ServiceDefinition<S>): Promise<void> {
  const config = loadConfigOrExit(def.name);
  const log = createLogger(def.name, { level: config.LOG_LEVEL, pretty: config.LOG_FORMAT === 'pretty' });
  let service: S;
  try {
    service = await def.start(config, log);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    process.stderr.write(`${def.name}: cannot start: ${e.code ? `${e.code} ` : ''}${e.message}\n`);
    process.exit(1);
  }
  const ready = def.listening(service, config);
  if (log.isLevelEnabled('info')) log.info({ url: service.url, ...ready.fields }, ready.msg);
  // The contract promises this line whatever LOG_LEVEL says: supervisors and test harnesses
  // wait for it to know the port.
  else process.stdout.write(`${JSON.stringify({ level: 30, time: Date.now(), name: def.name, url: service.url, msg: ready.msg })}\n`);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    setTimeout(() => {
      log.warn('shutdown took too long; exiting');
      process.exit(0);
    }, def.shutdownDeadlineMs ?? 4500).unref();
    service.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
