// Identifies a host process by pid plus start time, so a recycled pid is never mistaken for a sandbox.
import { promises as fs } from 'node:fs';

/** Start time in clock ticks since boot (field 22 of /proc/PID/stat), or undefined when the pid is gone. */
export async function processStartTicks(pid: number): Promise<number | undefined> {
  try {
    const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
    const afterComm = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const value = afterComm[19];
    return value === undefined ? undefined : Number(value);
  } catch {
    return undefined;
  }
}

export async function isSameProcess(pid: number, startTicks: number): Promise<boolean> {
  return (await processStartTicks(pid)) === startTicks;
}
