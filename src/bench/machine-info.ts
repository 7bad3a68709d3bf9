// What machine a bench ran on, so two runs can be compared: cores, kernel, memory, page-cache state.
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface MachineInfo {
  hostname: string;
  cores: number;
  cpuModel: string;
  kernel: string;
  memoryGiB: number;
  node: string;
  pageCachedMiB: number;
  pageCacheState: 'warm' | 'dropped before run';
}

function meminfoKiB(field: string): number {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/meminfo', 'utf8'));
    return match?.[1] ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

export function machineInfo(cacheDropped: boolean): MachineInfo {
  return {
    hostname: os.hostname(),
    cores: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    kernel: os.release(),
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    pageCachedMiB: Math.round(meminfoKiB('Cached') / 1024),
    pageCacheState: cacheDropped ? 'dropped before run' : 'warm',
  };
}
