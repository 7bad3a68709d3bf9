// Memory accounting from /proc: proportional set size (PSS) of a set of processes, and a process's RSS.
import { promises as fs } from 'node:fs';

async function readKiB(file: string, field: string): Promise<number> {
  try {
    const text = await fs.readFile(file, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
    return match?.[1] ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/** Sum of PSS over processes: shared pages count once across everyone who maps them. */
export async function pssKiB(pids: readonly number[]): Promise<number> {
  const values = await Promise.all(pids.map((pid) => readKiB(`/proc/${pid}/smaps_rollup`, 'Pss')));
  return values.reduce((sum, value) => sum + value, 0);
}

export async function rssKiB(pid: number): Promise<number> {
  return readKiB(`/proc/${pid}/status`, 'VmRSS');
}
