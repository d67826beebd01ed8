/** The web server process: browser sockets and upstreams close with 1001, exit 0 within 5 s. */
import { runService } from '@agent-bridge/common';
import { prettyStream } from '@agent-bridge/common/pretty';
import { startWebServer } from './server.ts';

await runService({
  name: 'web-server',
  start: (config, logger) => startWebServer(config, { logger }),
  listening: (server, config) => ({
    fields: { broker: config.BROKER_URL, static: config.STATIC_ROOT },
    msg: `listening on ${server.url}`,
  }),
  shutdownDeadlineMs: 4000,
  prettyStream,
});
