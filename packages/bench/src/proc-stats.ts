/**
 * Per-process memory and CPU from /proc, read by the harness (works for any pid, costs the child
 * nothing). Peak RSS per scenario: reset the kernel's high-water mark (`clear_refs` 5) at the
 * start, read `VmHWM` at the end; where that is not allowed, the sampled maximum of `VmRSS`.
 */
import { readFileSync, writeFileSync } from 'node:fs';

export interface ProcMem {
  rssBytes: number;
  hwmBytes: number;
}

export function readProcMem(pid: number): ProcMem | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? 0) * 1024;
    return { rssBytes: kb('VmRSS'), hwmBytes: kb('VmHWM') };
  } catch {
    return undefined;
  }
}

/** utime+stime in microseconds (clock-tick resolution, 10 ms). */
export function readProcCpuUs(pid: number): number | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10_000;
  } catch {
    return undefined;
  }
}

/** Reset VmHWM to the current RSS; false if the kernel refused. */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** Samples VmRSS of a set of pids every `intervalMs`, keeping each one's maximum. */
export class RssSampler {
  private peaks = new Map<number, number>();
  /** Pids whose VmHWM predates the scenario (reset refused): only VmRSS counts for them. */
  private stale = new Set<number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private pids: () => number[], private intervalMs = 100) {}

  start(): void {
    this.peaks.clear();
    this.stale.clear();
    for (const pid of this.pids()) if (!resetPeakRss(pid)) this.stale.add(pid);
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  private sample(): void {
    for (const pid of this.pids()) {
      const m = readProcMem(pid);
      if (m) this.peaks.set(pid, Math.max(this.peaks.get(pid) ?? 0, m.rssBytes, this.stale.has(pid) ? 0 : m.hwmBytes));
    }
  }

  /** Stop and return the peak per pid. */
  stop(): Map<number, number> {
    this.sample();
    clearInterval(this.timer);
    return new Map(this.peaks);
  }
}
