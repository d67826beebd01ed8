/**
 * `LOG_FORMAT=pretty`: pino-pretty as a stream in this process, not a pino transport. A
 * transport runs in a worker that resolves `pino-pretty` by name at run time, which an esbuild
 * bundle (dist/*.mjs) cannot do ("unable to determine transport target"); a stream is plain code
 * the bundler includes.
 *
 * Its own entry (`@agent-bridge/common/pretty`), imported by the service entry points only: the
 * published agent SDK bundles the package root and must not depend on pino-pretty.
 */
import type { DestinationStream } from 'pino';
import pretty from 'pino-pretty';

export function prettyStream(): DestinationStream {
  return pretty({
    colorize: true,
    // One line per event, also for objects and errors (a stack is kept escaped inside the line),
    // so the dev log of several processes stays readable and greppable.
    singleLine: true,
    errorLikeObjectKeys: [],
    translateTime: 'HH:MM:ss.l',
    ignore: 'pid,hostname',
    // Synchronous: a line logged right before process.exit is not lost.
    sync: true,
  });
}
