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
  /** Write lines here instead of stdout: `prettyStream()` (`@agent-bridge/common/pretty`) for LOG_FORMAT=pretty, or a test's sink. */
  destination?: pino.DestinationStream;
}

export function createLogger(service: string, opts: LoggerOptions = {}): Logger {
  const options: pino.LoggerOptions = {
    name: service,
    level: opts.level ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { pid: process.pid },
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
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
