/**
 * The life of a service process, written once for the broker and the web server: settings (one
 * clear line and exit 1 when bad), a logger, one `listening` line with the URL, and SIGTERM /
 * SIGINT → graceful close, exit 0 within 5 s even if something hangs.
 */
import type { DestinationStream } from 'pino';
import { type Config, loadConfigOrExit } from './config.ts';
import { createLogger, type Logger } from './logger.ts';

/**
 * The listen backlog of both services' sockets (the kernel caps it at net.core.somaxconn, 4096 on
 * current Linux). Node's default, 511, is too short for a reconnect storm: thousands of upgrades
 * arrive within a second while the event loop is busy with the first ones, the accept queue
 * overflowed (13,230 overflows over one 5,000-client storm run), and each connection dropped there waits
 * for TCP's SYN retransmission — 1 s, then 2 s, 4 s … — however soon the server is free again.
 */
export const LISTEN_BACKLOG = 4096;

export interface RunningService {
  url: string;
  /** SIGTERM's first step: /readyz answers 503 from now on, while everything still serves. */
  drain?(): void;
  close(): Promise<void>;
}

export interface ServiceDefinition<S extends RunningService> {
  /** Name in logs and in the stderr line of a bad setting. */
  name: string;
  start(config: Config, logger: Logger): Promise<S>;
  /** The ready line; must contain "listening" and the URL. */
  listening(service: S, config: Config): { fields?: Record<string, unknown>; msg: string };
  /**
   * Where LOG_FORMAT=pretty writes: pass `prettyStream` from `@agent-bridge/common/pretty` (kept
   * out of this file so the package root never loads pino-pretty). Without it, logs stay JSON.
   */
  prettyStream?: () => DestinationStream;
  /** The close must be over before this, whatever hangs. */
  shutdownDeadlineMs?: number;
}

export async function runService<S extends RunningService>(def: ServiceDefinition<S>): Promise<void> {
  const config = loadConfigOrExit(def.name);
  const pretty = config.LOG_FORMAT === 'pretty' ? def.prettyStream?.() : undefined;
  const log = createLogger(def.name, { level: config.LOG_LEVEL, destination: pretty });
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
    // Readiness flips first; the load balancer gets DRAIN_DELAY_MS to notice before we close.
    service.drain?.();
    log.info({ signal, drainDelayMs: config.DRAIN_DELAY_MS }, 'shutting down');
    setTimeout(() => {
      log.warn('shutdown took too long; exiting');
      process.exit(0);
    }, (def.shutdownDeadlineMs ?? 4500) + config.DRAIN_DELAY_MS).unref();
    const drained = new Promise<void>((resolve) => setTimeout(resolve, config.DRAIN_DELAY_MS));
    drained.then(() => service.close()).then(
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
