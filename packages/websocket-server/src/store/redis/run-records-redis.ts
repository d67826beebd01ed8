/**
 * PROTOCOL §9 in a cluster: which agent name streams each run to a client, kept beside the
 * session (`{clientId}` tag) because the run's events pass through the agent's broker and the
 * client's `cancel` through its own. Written only when a run starts (or changes agent) and ends,
 * never per event. Bounded: beyond MAX_RUNS open runs the record is dropped (a cancel of a run
 * the bridge does not know goes to the name the client gives), and it goes with the session.
 */
import type { RedisLink } from '@agent-bridge/common/redis';
import type { SharedRunRecords } from '../../runs.ts';
import type { Keys } from './keys.ts';

const MAX_RUNS = 256;

const SET = `
if ARGV[2] == '' then
  redis.call('HDEL', KEYS[1], ARGV[1])
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if redis.call('HLEN', KEYS[1]) > tonumber(ARGV[3]) then redis.call('DEL', KEYS[1]) end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
`;

export class RedisRunRecords implements SharedRunRecords {
  constructor(
    private readonly redis: RedisLink,
    private readonly keys: Keys,
    /** How long a run's record may outlive its last start (SESSION_TTL_MS and more). */
    private readonly ttlMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  set(clientId: string, runId: string, agent: string | null): void {
    this.redis.eval(SET, [this.keys.runs(clientId)], [runId, agent ?? '', String(MAX_RUNS), String(this.ttlMs)]).catch(this.onError);
  }

  async agentOf(clientId: string, runId: string): Promise<string | undefined> {
    return (await this.redis.cmd<string | null>(['HGET', this.keys.runs(clientId), runId])) ?? undefined;
  }
}
