/**
 * The seams' contract suites (test/contracts/) against the memory implementations, the broker's
 * default. A shared implementation (Redis, PROTOCOL §10) runs the same suites.
 */
import { describe, expect, it } from 'vitest';
import { AgentWaitQueues } from '../src/agent-wait-queue.ts';
import { MemoryAgentDirectory } from '../src/store/agent-directory-memory.ts';
import { MemoryClusterBus } from '../src/store/cluster-bus-memory.ts';
import { MemoryEpochSource } from '../src/store/epoch-source-memory.ts';
import { MemoryRateLimitStore } from '../src/store/rate-limit-store-memory.ts';
import { MemorySessionLog } from '../src/store/session-log-memory.ts';
import { MemorySessionStore } from '../src/store/session-store-memory.ts';
import { describeAgentDirectoryContract } from './contracts/agent-directory.contract.ts';
import { describeClusterBusContract, SAMPLE_MESSAGES } from './contracts/cluster-bus.contract.ts';
import { describeEpochSourceContract } from './contracts/epoch-source.contract.ts';
import { describeRateLimitStoreContract } from './contracts/rate-limit-store.contract.ts';
import { describeSessionLogContract } from './contracts/session-log.contract.ts';
import { describeSessionStoreContract } from './contracts/session-store.contract.ts';
import { describeWaitQueueStoreContract } from './contracts/wait-queue-store.contract.ts';

describeSessionStoreContract('memory', (bounds) => new MemorySessionStore(bounds));
describeSessionLogContract('memory', (b) => new MemorySessionLog(b));
describeAgentDirectoryContract('memory', () => new MemoryAgentDirectory());
describeWaitQueueStoreContract('memory', (b) => new AgentWaitQueues(b.limit, b.maxAgeMs, undefined, { budget: b.budget, perClient: b.perClient }));
describeRateLimitStoreContract('memory', (b) => new MemoryRateLimitStore(b.ratePerSec, b.burst, b.now));
describeClusterBusContract('memory', () => new MemoryClusterBus());
describeEpochSourceContract('memory', () => new MemoryEpochSource());

describe('memory implementations answer synchronously (no Promise per frame on the hot path)', () => {
  it('the per-frame calls return plain values', () => {
    const log = new MemorySessionLog({ frames: 10, bytes: 1 << 16, budgetBytes: 1 << 20, maxMessageBytes: 65536 });
    expect(log.append('a', { type: 'system', render: (seq) => `{"seq":${seq}}` })).not.toBeInstanceOf(Promise);
    expect(new MemorySessionStore().get('a')).toBeUndefined();
    expect(new MemoryRateLimitStore(1, 1).take('a')).toBe('ok');
    expect(new MemoryAgentDirectory().pick('echo', 'a')).toBeUndefined();
    const bus = new MemoryClusterBus();
    let got = 0;
    bus.subscribe(() => got++);
    expect(bus.publish(SAMPLE_MESSAGES[0]!)).toBeUndefined();
    expect(got).toBe(1); // looped back before publish returned
  });

  it('two memory epoch sources are two seq spaces', () => {
    expect(new MemoryEpochSource().current()).not.toBe(new MemoryEpochSource().current());
  });
});
