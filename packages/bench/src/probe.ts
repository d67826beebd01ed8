/**
 * Preloaded (`--import`) into every process the bench starts, ours and the products alike,
 * without touching their code: answers CPU time, memory, GC and CPU-profile requests from the
 * harness over the IPC channel.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { serve } from './rpc.ts';

export interface ProbeStats {
  pid: number;
  cpuUserUs: number;
  cpuSystemUs: number;
  rssBytes: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  externalBytes: number;
  maxRssBytes: number;
}

function stats(): ProbeStats {
  const cpu = process.cpuUsage();
  const mem = process.memoryUsage();
  return {
    pid: process.pid,
    cpuUserUs: cpu.user,
    cpuSystemUs: cpu.system,
    rssBytes: mem.rss,
    heapUsedBytes: mem.heapUsed,
    heapTotalBytes: mem.heapTotal,
    externalBytes: mem.external,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
  };
}

let session: Session | undefined;
function post(method: string, params?: object): Promise<any> {
  return new Promise((resolve, reject) =>
    session!.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res))),
  );
}

serve({
  'probe.stats': () => stats(),
  'probe.gc': async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (gc) {
      gc();
      await new Promise((r) => setImmediate(r));
      gc();
    }
    return stats();
  },
  'probe.profileStart': async () => {
    session = new Session();
    session.connect();
    await post('Profiler.enable');
    await post('Profiler.setSamplingInterval', { interval: 200 });
    await post('Profiler.start');
    return true;
  },
  'probe.profileStop': async (args: { path: string }) => {
    const { profile } = await post('Profiler.stop');
    writeFileSync(args.path, JSON.stringify(profile));
    session!.disconnect();
    session = undefined;
    return args.path;
  },
});
