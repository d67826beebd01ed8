/** Broker process: SIGTERM/SIGINT close every socket with 1001 and exit 0 within 5 s. */
import { runService } from '@agent-bridge/common';
import { prettyStream } from '@agent-bridge/common/pretty';
import { startBroker } from './server.ts';

await runService({
  name: 'broker',
  start: (config, logger) => startBroker(config, { logger }),
  listening: (broker) => ({ fields: { epoch: broker.epoch }, msg: `broker listening on ${broker.url}` }),
  prettyStream,
});
