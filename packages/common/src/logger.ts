/**
 * pino logger factory. One root logger per process, a child per module (`{module: "router"}`).
 * Secrets are redacted by path so that a careless `log.info({ headers })` cannot leak them.
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export const REDACT_PATHS = [
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'headers.cookie',
  'req.headers.cookie',
  'secret',
  '*.secret',
  'signature',
  '*.signature',
  'AGENT_TOKEN',
  'PROXY_TOKEN',
  'JWT_SECRET',
  '*.AGENT_TOKEN',
  '*.PROXY_TOKEN',
  '*.JWT_SECRET',
];

export interface LoggerOptions {
  level?: LevelWithSilent;
  pretty?: boolean;
  /** For tests: write lines here instead of stdout. */
  destination?: pino.DestinationStream;
}

export function createLogger(service: string, opts: LoggerOptions = {}): Logger {
  const options: pino.LoggerOptions = {
    name: service,
    level: opts.level ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { pid: process.pid },
  };
  if (opts.destination) return pino(options, opts.destination);
  if (opts.pretty) {
    return pino({
      ...options,
      // singleLine: one line per event, so the dev log of several processes stays readable.
      transport: { target: 'pino-pretty', options: { colorize: true, singleLine: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } },
    });
  }
  return pino(options);
}

/**
 * Query strings may carry a session token (`/ws/:id?token=`), under any spelling a parser accepts
 * (`?%74oken=`, `?TOKEN=`…): no pattern can list them all, so the query is never logged. Only
 * whatever precedes `?` (or `#`) is kept, with a marker that there was one.
 */
export function redactUrl(url: string | undefined): string {
  if (!url) return '';
  const cut = url.search(/[?#]/);
  return cut === -1 ? url : `${url.slice(0, cut)}?[redacted]`;
}
