/**
 * Broker process: SIGTERM/SIGINT close every socket with 1001 and exit 0 within 5 s. Embedded
 * (no REDIS_URL) and with STATE_SNAPSHOT_PATH not `off`, it starts from the state snapshot a
 * SIGTERM wrote and writes one when it stops (snapshot.ts), so a restart resumes every client.
 */
import { runService } from '@agent-bridge/common';
import { prettyStream } from '@agent-bridge/common/pretty';
import { startBroker } from './server.ts';
import { consumeSnapshot, loadSnapshot, persistOnClose } from './snapshot.ts';
import { memoryStores } from './store/stores.ts';

await runService({
  name: 'broker',
  start: async (config, logger) => {
    const file = config.REDIS_URL === undefined ? config.STATE_SNAPSHOT_PATH : null;
    if (file === null) return startBroker(config, { logger });
    const loaded = await loadSnapshot(file, config, logger);
    // Built here, not inside startBroker, so that close() can write these very objects.
    const stores = loaded ?? memoryStores(config);
    const broker = await startBroker(config, { logger, stores });
    if (loaded) await consumeSnapshot(file, logger);
    return persistOnClose(broker, stores, file, logger);
  },
  listening: (broker) => ({ fields: { epoch: broker.epoch }, msg: `broker listening on ${broker.url}` }),
  prettyStream,
});
