// Taking a template's memory snapshot: its first sandbox (per kernel, root image, disk size, network device and
// machine shape) boots with RAM in a shared file; once the supervisor answered IDENTIFY, the template's start
// command runs and its ready check passed (without a network: the guest is not plugged in yet) and the host let go, the
// device state is migrated to a file beside the RAM and disk, and the directory is published whole. Concurrent
// creates wait for the one boot; another server sharing the cache that publishes first wins.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { InternalError } from '../../errors/hearth-error.js';
import type { SandboxSpec } from '../backend.js';
import { removeSandboxCgroups } from '../namespaces/cgroup-v1.js';
import { isSameProcess } from '../namespaces/process-identity.js';
import { identifyGuest } from './guest-identity.js';
import { saveDeviceState, snapshotPaths, writeSnapshotHeader, type SnapshotPaths } from './memory-snapshots.js';
import type { MicrovmRuntime } from './microvm-runtime.js';
import type { MachineShape, QemuLaunch } from './qemu-command.js';
import { copySparse, type SandboxDisks } from './sandbox-disk-image.js';
import type { SnapshotIdentity } from './snapshot-header.js';
import { SupervisorClient } from '../../supervisor/supervisor-client.js';
import { hasTemplateServices, startTemplateServices } from '../../supervisor/template-services.js';

export interface TemplateSnapshotsOptions {
  disks: SandboxDisks;
  cgroupParent: string;
  bootTimeoutMs: number;
  spawn: (id: string, dir: string, spec: SandboxSpec, launch: QemuLaunch) => Promise<MicrovmRuntime>;
  launchFor: (dir: string, rootImage: string, diskImage: string, shape: MachineShape, network: boolean) => QemuLaunch;
  log: (message: string) => void;
}

/** Time for the guest to see the host's close before the snapshot (it copes with a late one too). */
const SETTLE_MS = 50;

export class TemplateSnapshots {
  private readonly taking = new Map<string, Promise<void>>();

  constructor(private readonly options: TemplateSnapshotsOptions) {}

  /** Makes sure the snapshot exists (booting once to take it); failures are logged and the caller boots instead. */
  ensure(paths: SnapshotPaths, spec: SandboxSpec, shape: MachineShape, rootImage: string, identity: SnapshotIdentity): Promise<void> {
    let taking = this.taking.get(paths.dir);
    if (!taking) {
      taking = fs.stat(paths.header).then(
        () => undefined,
        () => this.take(paths.dir, spec, shape, rootImage, identity),
      );
      taking = taking.catch((error: unknown) => this.options.log(`microvm: no snapshot for template ${spec.template.id}, booting instead: ${String(error)}`));
      this.taking.set(paths.dir, taking);
      void taking.finally(() => this.taking.delete(paths.dir));
    }
    return taking;
  }

  private async take(dir: string, spec: SandboxSpec, shape: MachineShape, rootImage: string, identity: SnapshotIdentity): Promise<void> {
    const work = `${dir}.partial-${process.pid}`;
    await fs.rm(work, { recursive: true, force: true });
    await fs.mkdir(work, { recursive: true, mode: 0o700 });
    const paths = snapshotPaths(work);
    const id = `snapshot-${path.basename(dir)}-${process.pid}`;
    let runtime: MicrovmRuntime | undefined;
    try {
      await copySparse(await this.options.disks.blank(spec.diskMiB), paths.disk);
      const launch = { ...this.options.launchFor(work, rootImage, paths.disk, shape, identity.network), memoryFile: { path: paths.ram, share: true } };
      runtime = await this.options.spawn(id, work, spec, launch);
      // The supervisor answering (and the template's services being up) is the point we snapshot at; the host
      // disconnects first, so every restore starts detached.
      await identifyGuest(runtime.channelSocket, { hostname: 'microvm', baseEnv: templateEnvironment(spec) }, this.options.bootTimeoutMs);
      if (hasTemplateServices(spec.template)) {
        const client = await SupervisorClient.connect({ socketPath: runtime.channelSocket, connectTimeoutMs: this.options.bootTimeoutMs });
        try {
          await startTemplateServices(client, spec.template);
        } finally {
          client.close();
        }
      }
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
      await saveDeviceState(runtime.qmpSocket, paths.state);
      await waitForExit(runtime.qemuPid, runtime.startTicks, 10_000);
      await writeSnapshotHeader(paths, identity);
      for (const leftover of ['supervisor.sock', 'control.sock', 'qmp.sock', 'qemu.pid']) await fs.rm(path.join(work, leftover), { force: true });
      await fs.rename(work, dir);
    } finally {
      if (runtime && (await isSameProcess(runtime.qemuPid, runtime.startTicks))) process.kill(runtime.qemuPid, 'SIGKILL');
      await removeSandboxCgroups(this.options.cgroupParent, id, 5000).catch(() => undefined);
      await fs.rm(work, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.taking.values()]);
  }
}

/** Per-sandbox variables, which every restore sets anew, are left out of what the template's services start with. */
const PER_SANDBOX_ENV = new Set(['E2B_SANDBOX_ID', 'HEARTH_SANDBOX_ID']);

function templateEnvironment(spec: SandboxSpec): Record<string, string> {
  return Object.fromEntries(Object.entries(spec.baseEnv).filter(([key]) => !PER_SANDBOX_ENV.has(key)));
}

async function waitForExit(pid: number, startTicks: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (await isSameProcess(pid, startTicks)) {
    if (Date.now() > deadline) throw new InternalError(`QEMU ${pid} did not quit after saving its snapshot`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
