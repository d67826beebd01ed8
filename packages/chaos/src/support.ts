/**
 * Whether the bridge in this checkout can do what a chaos mode kills for, asked of a real broker
 * (so the short run in `pnpm test` follows what has landed instead of a flag someone must flip).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { clusterStack, SHARED_REDIS_URL } from '@agent-bridge/testkit';

export interface Support {
  ok: boolean;
  why: string;
}

/**
 * Cluster mode: a broker started with REDIS_URL (and NODE_ID) says so in /healthz
 * (`"cluster": true`, PROTOCOL §10 `nodeId`) and is ready (/readyz 200).
 */
export async function clusterSupported(redisUrl = SHARED_REDIS_URL): Promise<Support> {
  let stack: Awaited<ReturnType<typeof clusterStack>> | undefined;
  try {
    stack = await clusterStack({ brokers: 1, webServers: 0, redisUrl });
    const url = stack.brokerUrls[0]!;
    const health = (await (await fetch(`${url}/healthz`)).json()) as { cluster?: unknown; nodeId?: unknown };
    if (health.cluster !== true) return { ok: false, why: `a broker with REDIS_URL does not report "cluster":true in /healthz (${JSON.stringify(health)})` };
    if (health.nodeId !== 'broker-1') return { ok: false, why: `a broker with NODE_ID=broker-1 reports nodeId ${JSON.stringify(health.nodeId)}` };
    const ready = await fetch(`${url}/readyz`);
    if (ready.status !== 200) return { ok: false, why: `a broker with REDIS_URL is not ready: ${ready.status} ${await ready.text()}` };
    return { ok: true, why: 'broker reports cluster mode' };
  } catch (err) {
    return { ok: false, why: `cannot start a cluster broker: ${String(err).slice(0, 300)}` };
  } finally {
    await stack?.close();
  }
}

/** Embedded mode: a broker stopped with SIGTERM writes STATE_SNAPSHOT_PATH. */
export async function snapshotSupported(): Promise<Support> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ab-snap-'));
  const file = path.join(dir, 'broker-state.json');
  let stack: Awaited<ReturnType<typeof clusterStack>> | undefined;
  try {
    stack = await clusterStack({ redisUrl: null, brokers: 1, webServers: 0, env: { STATE_SNAPSHOT_PATH: file } });
    await stack.brokers[0]!.stop('SIGTERM');
    return existsSync(file) ? { ok: true, why: 'SIGTERM wrote the snapshot' } : { ok: false, why: 'a broker stopped with SIGTERM wrote no STATE_SNAPSHOT_PATH file' };
  } catch (err) {
    return { ok: false, why: `cannot start a broker: ${String(err).slice(0, 300)}` };
  } finally {
    await stack?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
