// cgroup v1 controllers for one sandbox: memory, pids, cpu and freezer directories under a `hearth` parent.
import { promises as fs, writeFileSync } from 'node:fs';
import path from 'node:path';

const CGROUP_ROOT = '/sys/fs/cgroup';
export const SANDBOX_CONTROLLERS = ['memory', 'pids', 'cpu', 'cpuacct', 'freezer'] as const;
export type Controller = (typeof SANDBOX_CONTROLLERS)[number];

export interface CgroupLimits {
  memoryMiB: number;
  pidsLimit: number;
  cpuCount: number;
}

export function cgroupPath(controller: Controller, parent: string, sandboxId: string): string {
  return path.join(CGROUP_ROOT, controller, parent, sandboxId);
}

export async function availableControllers(): Promise<Controller[]> {
  const present: Controller[] = [];
  for (const controller of SANDBOX_CONTROLLERS) {
    try {
      await fs.access(path.join(CGROUP_ROOT, controller, 'cgroup.procs'));
      present.push(controller);
    } catch {
      // controller not mounted
    }
  }
  return present;
}

async function writeSetting(dir: string, file: string, value: string): Promise<void> {
  await fs.writeFile(path.join(dir, file), value);
}

/** Creates the sandbox's cgroups with limits; returns the cgroup.procs files the launcher joins. */
export async function createSandboxCgroups(parent: string, sandboxId: string, limits: CgroupLimits): Promise<string[]> {
  const procsFiles: string[] = [];
  for (const controller of await availableControllers()) {
    const dir = cgroupPath(controller, parent, sandboxId);
    await fs.mkdir(dir, { recursive: true });
    if (controller === 'memory') {
      const bytes = String(limits.memoryMiB * 1024 * 1024);
      await writeSetting(dir, 'memory.limit_in_bytes', bytes);
      await writeSetting(dir, 'memory.memsw.limit_in_bytes', bytes).catch(() => undefined);
      await writeSetting(dir, 'memory.swappiness', '0').catch(() => undefined);
    } else if (controller === 'pids') {
      await writeSetting(dir, 'pids.max', String(limits.pidsLimit));
    } else if (controller === 'cpu') {
      await writeSetting(dir, 'cpu.cfs_period_us', '100000');
      await writeSetting(dir, 'cpu.cfs_quota_us', String(Math.round(limits.cpuCount * 100000)));
      await writeSetting(dir, 'cpu.shares', String(Math.round(limits.cpuCount * 1024)));
    }
    procsFiles.push(path.join(dir, 'cgroup.procs'));
  }
  return procsFiles;
}

async function readProcs(dir: string): Promise<number[]> {
  try {
    const text = await fs.readFile(path.join(dir, 'cgroup.procs'), 'utf8');
    return text.split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Kills whatever is still in the sandbox's cgroups and removes them. */
export async function removeSandboxCgroups(parent: string, sandboxId: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const dirs = SANDBOX_CONTROLLERS.map((controller) => cgroupPath(controller, parent, sandboxId));
  // A frozen task cannot act on SIGKILL: thaw first, then kill until the pids cgroup is empty.
  await writeSetting(cgroupPath('freezer', parent, sandboxId), 'freezer.state', 'THAWED').catch(() => undefined);
  const tasksDir = cgroupPath('pids', parent, sandboxId);
  for (;;) {
    const pids = await readProcs(tasksDir);
    if (pids.length === 0) break;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  for (const dir of dirs) {
    for (;;) {
      try {
        await fs.rmdir(dir);
        break;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') break;
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    }
  }
}

/**
 * Removes `relativePath` from every cgroup v1 hierarchy that has it, not just the ones Hearth writes to: runsc
 * also creates the sandbox in blkio, cpuset, devices and the named systemd hierarchy, and a sandbox killed
 * before `runsc delete` finished leaves those behind. Only empty directories go (rmdir); the unified v2 mount
 * is left alone.
 */
export async function removeFromAllHierarchies(relativePath: string): Promise<void> {
  const hierarchies = await fs.readdir(CGROUP_ROOT).catch(() => [] as string[]);
  for (const hierarchy of hierarchies) {
    if (hierarchy === 'unified') continue;
    await fs.rmdir(path.join(CGROUP_ROOT, hierarchy, relativePath)).catch(() => undefined);
  }
}

export async function readUsage(parent: string, sandboxId: string): Promise<{ memoryBytes: number; pids: number; cpuUsageNs: number }> {
  const read = async (controller: string, file: string): Promise<number> => {
    try {
      return Number((await fs.readFile(path.join(CGROUP_ROOT, controller, parent, sandboxId, file), 'utf8')).trim());
    } catch {
      return 0;
    }
  };
  return {
    memoryBytes: await read('memory', 'memory.usage_in_bytes'),
    pids: await read('pids', 'pids.current'),
    cpuUsageNs: await read('cpuacct', 'cpuacct.usage'),
  };
}

/** A synchronous write: cgroup files never block, and this sits on the pool-claim path where thread-pool hops cost more. */
export function setFrozen(parent: string, sandboxId: string, frozen: boolean): void {
  writeFileSync(path.join(cgroupPath('freezer', parent, sandboxId), 'freezer.state'), frozen ? 'FROZEN' : 'THAWED');
}

export async function cgroupPids(parent: string, sandboxId: string): Promise<number[]> {
  return readProcs(cgroupPath('pids', parent, sandboxId));
}
