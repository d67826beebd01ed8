/** What the numbers were measured on, attached to every result line. */
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface MachineInfo {
  cores: number;
  cpu: string;
  node: string;
  platform: string;
  totalMemMB: number;
  loadavg: number[];
  fdLimit: number | null;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    cpu: cpus[0]?.model ?? 'unknown',
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    totalMemMB: Math.round(os.totalmem() / 2 ** 20),
    loadavg: os.loadavg().map((l) => Math.round(l * 100) / 100),
    fdLimit: hardFdLimit(),
  };
}

export function hardFdLimit(): number | null {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const v = line?.split(/\s{2,}/)[2];
    return v === 'unlimited' ? Infinity : Number(v) || null;
  } catch {
    return null;
  }
}
