// The microVM backend: each sandbox is a QEMU `microvm` guest with its own kernel, the template root on a
// read-only disk, a private writable disk, and the same supervisor as PID 1 reached over virtio-serial. A
// template's first sandbox boots and leaves a memory snapshot behind; later ones restore from it.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { InternalError, UnsupportedError } from '../../errors/hearth-error.js';
import type { Backend, BackendCapabilities, ResourceUsage, SandboxRuntime, SandboxSpec, StartedSandbox, SupervisorEndpoint } from '../backend.js';
import { cgroupPids, createSandboxCgroups, readUsage, removeSandboxCgroups, setFrozen } from '../namespaces/cgroup-v1.js';
import { isSameProcess, processStartTicks } from '../namespaces/process-identity.js';
import { findGuestKernel, type GuestKernel } from './guest-kernel.js';
import { identifyGuest } from './guest-identity.js';
import { asMicrovmRuntime, type MicrovmRuntime } from './microvm-runtime.js';
import { checkSnapshot, loadDeviceState, saveDeviceState, snapshotIdentity, snapshotKey, snapshotPaths, writeSnapshotHeader } from './memory-snapshots.js';
import { qemuArgs, type MachineShape, type QemuLaunch } from './qemu-command.js';
import { checkMicrovmHost, findQemu, probeKvm, type Accelerator } from './qemu-host-check.js';
import { spawnQemu, waitForSocket } from './qemu-process.js';
import { withQmp } from './qmp-client.js';
import { RootImages } from './root-image.js';
import { copySparse, SandboxDisks } from './sandbox-disk-image.js';
import { SnapshotInvalidError } from './snapshot-header.js';

export interface MicrovmBackendOptions {
  /** One subdirectory per sandbox: its disk, sockets, console log. */
  sandboxesDir: string;
  /** The shared cache: kernel/, images/ (root images, blank disks), snapshots/. */
  microvmDir: string;
  supervisorBinary: string;
  cgroupParent: string;
  bootTimeoutMs: number;
  /** HEARTH_MICROVM_KERNEL: a vmlinux to boot instead of the cached build. */
  kernelPath?: string;
  /** HEARTH_MICROVM_ACCEL: skip the probe. */
  accelerator?: Accelerator;
  /** false: always boot (no memory snapshots). */
  snapshots: boolean;
  log: (message: string) => void;
}

/** What QEMU itself needs on top of guest RAM under the sandbox's memory limit (TCG translation cache, devices). */
export const QEMU_OVERHEAD_MIB = 128;
const MIN_GUEST_MEMORY_MIB = 128;
const KVM_PROBE_TIMEOUT_MS = 5_000;
const QMP_READY_TIMEOUT_MS = 10_000;

export function machineShape(spec: Pick<SandboxSpec, 'cpuCount' | 'memoryMiB' | 'pidsLimit'>): MachineShape {
  return {
    vcpus: Math.max(1, Math.ceil(spec.cpuCount)),
    guestMemoryMiB: Math.max(MIN_GUEST_MEMORY_MIB, spec.memoryMiB - QEMU_OVERHEAD_MIB),
    pidsLimit: spec.pidsLimit,
  };
}

export class MicrovmBackend implements Backend {
  readonly kind = 'microvm';

  private readonly qemuBinary = findQemu();
  private kernel: GuestKernel | undefined;
  private accel: Accelerator = 'tcg';
  private readonly rootImages: RootImages;
  private readonly disks: SandboxDisks;
  private readonly snapshotting = new Map<string, Promise<void>>();
  private readonly verifiedSnapshots = new Set<string>();
  private readonly pendingRemovals = new Set<Promise<void>>();

  constructor(private readonly options: MicrovmBackendOptions) {
    this.rootImages = new RootImages(path.join(options.microvmDir, 'images'), options.supervisorBinary);
    this.disks = new SandboxDisks(path.join(options.microvmDir, 'images'));
  }

  /** The accelerator in use (known after checkHost). */
  get accelerator(): Accelerator {
    return this.accel;
  }

  capabilities(): BackendCapabilities {
    return { pause: false, snapshot: this.options.snapshots, fork: false, network: 'loopback', limits: { memory: true, pids: true, cpu: true, disk: true } };
  }

  async checkHost(): Promise<void> {
    this.kernel = await findGuestKernel(this.options.microvmDir, this.options.kernelPath);
    await checkMicrovmHost(this.qemuBinary, this.kernel?.vmlinuxPath, this.options.supervisorBinary);
    await fs.mkdir(this.options.sandboxesDir, { recursive: true, mode: 0o700 });
    if (this.options.accelerator) this.accel = this.options.accelerator;
    else this.accel = this.qemuBinary && this.kernel && probeKvm(this.qemuBinary, this.kernel.vmlinuxPath, KVM_PROBE_TIMEOUT_MS) ? 'kvm' : 'tcg';
    if (this.accel === 'tcg') {
      this.options.log('microvm: WARNING: KVM cannot run the guest kernel here, guests run under TCG (software CPU emulation): expect slow commands');
    }
    this.options.log(`microvm: ${this.qemuBinary}, kernel ${this.kernel?.identity}, accelerator ${this.accel}`);
  }

  private ready(): { qemu: string; kernel: GuestKernel } {
    if (!this.qemuBinary || !this.kernel) throw new InternalError('the microvm backend was used before its host check');
    return { qemu: this.qemuBinary, kernel: this.kernel };
  }

  async start(spec: SandboxSpec): Promise<StartedSandbox> {
    const { kernel } = this.ready();
    const shape = machineShape(spec);
    const rootImage = await this.rootImages.imageFor(spec.template);
    const identity = snapshotIdentity(spec.template, kernel.identity, shape);
    const snapshot = snapshotPaths(path.join(this.options.microvmDir, 'snapshots', snapshotKey(identity)));
    // Only sandboxes with the template's disk size restore: the snapshot's disk has that size.
    const restorable = this.options.snapshots && !spec.upperDir && spec.network !== 'host';
    if (restorable) await this.ensureSnapshot(snapshot.dir, spec, shape, rootImage, identity);
    const useSnapshot = restorable && (await fs.stat(snapshot.header).then(() => true, () => false));
    if (useSnapshot) await checkSnapshot(snapshot, identity, this.verifiedSnapshots);

    const dir = path.join(this.options.sandboxesDir, spec.sandboxId);
    await fs.mkdir(dir, { mode: 0o700 });
    const diskImage = path.join(dir, 'disk.ext4');
    const launch = this.launchFor(dir, rootImage, diskImage, shape);
    let runtime: MicrovmRuntime | undefined;
    try {
      await copySparse(useSnapshot ? snapshot.disk : await this.disks.blank(spec.diskMiB), diskImage);
      runtime = await this.spawn(spec.sandboxId, dir, spec, useSnapshot ? { ...launch, memoryFile: { path: snapshot.ram, share: false }, incoming: true } : launch);
      if (useSnapshot) await loadDeviceState(runtime.qmpSocket, snapshot.state);
      await identifyGuest(runtime.channelSocket, spec.hostname, spec.baseEnv, this.options.bootTimeoutMs);
      return { runtime: { ...runtime, origin: useSnapshot ? 'restore' : 'boot' }, endpoint: { socketPath: runtime.channelSocket } };
    } catch (error) {
      await this.cleanup(spec.sandboxId, dir, runtime);
      throw error;
    }
  }

  private launchFor(dir: string, rootImage: string, diskImage: string, shape: MachineShape): QemuLaunch {
    return {
      accelerator: this.accel,
      vmlinuxPath: this.ready().kernel.vmlinuxPath,
      rootImage,
      diskImage,
      channelSocket: path.join(dir, 'supervisor.sock'),
      qmpSocket: path.join(dir, 'qmp.sock'),
      consoleLog: path.join(dir, 'console.log'),
      shape,
    };
  }

  private async spawn(sandboxId: string, dir: string, spec: SandboxSpec, launch: QemuLaunch): Promise<MicrovmRuntime> {
    const procsFiles = await createSandboxCgroups(this.options.cgroupParent, sandboxId, { memoryMiB: spec.memoryMiB, pidsLimit: spec.pidsLimit, cpuCount: spec.cpuCount });
    const qemuPid = await spawnQemu(this.ready().qemu, qemuArgs(launch), procsFiles, path.join(dir, 'qemu.log'));
    await fs.writeFile(path.join(dir, 'qemu.pid'), String(qemuPid));
    const startTicks = await processStartTicks(qemuPid);
    if (startTicks === undefined) throw new InternalError(`QEMU for ${sandboxId} exited at once: see ${path.join(dir, 'qemu.log')}`);
    const runtime: MicrovmRuntime = { backend: 'microvm', sandboxId, dir, qemuPid, startTicks, channelSocket: launch.channelSocket, qmpSocket: launch.qmpSocket, origin: 'boot' };
    await waitForSocket(launch.qmpSocket, QMP_READY_TIMEOUT_MS, () => isSameProcess(qemuPid, startTicks), 'QEMU');
    return runtime;
  }

  /** Boots the template once with its RAM in a shared file and saves the snapshot; concurrent creates wait for it. */
  private ensureSnapshot(dir: string, spec: SandboxSpec, shape: MachineShape, rootImage: string, identity: ReturnType<typeof snapshotIdentity>): Promise<void> {
    let taking = this.snapshotting.get(dir);
    if (!taking) {
      taking = fs.stat(path.join(dir, 'header')).then(
        () => undefined,
        () => this.takeSnapshot(dir, spec, shape, rootImage, identity),
      );
      taking = taking.catch((error: unknown) => this.options.log(`microvm: no snapshot for template ${spec.template.id}, booting instead: ${String(error)}`));
      this.snapshotting.set(dir, taking);
      void taking.finally(() => this.snapshotting.delete(dir));
    }
    return taking;
  }

  private async takeSnapshot(dir: string, spec: SandboxSpec, shape: MachineShape, rootImage: string, identity: ReturnType<typeof snapshotIdentity>): Promise<void> {
    const work = `${dir}.partial-${process.pid}`;
    await fs.rm(work, { recursive: true, force: true });
    await fs.mkdir(work, { recursive: true, mode: 0o700 });
    const paths = snapshotPaths(work);
    const id = `snapshot-${path.basename(dir)}`;
    let runtime: MicrovmRuntime | undefined;
    try {
      await copySparse(await this.disks.blank(spec.diskMiB), paths.disk);
      const launch = { ...this.launchFor(work, rootImage, paths.disk, shape), memoryFile: { path: paths.ram, share: true } };
      runtime = await this.spawn(id, work, spec, launch);
      // The supervisor answering is the point we snapshot at; the host disconnects first, so every restore starts detached.
      await identifyGuest(runtime.channelSocket, 'microvm', {}, this.options.bootTimeoutMs);
      await new Promise((resolve) => setTimeout(resolve, 50));
      await saveDeviceState(runtime.qmpSocket, paths.state);
      await waitForExit(runtime.qemuPid, runtime.startTicks, 10_000);
      await writeSnapshotHeader(paths, identity);
      for (const leftover of ['supervisor.sock', 'qmp.sock', 'qemu.pid']) await fs.rm(path.join(work, leftover), { force: true });
      await fs.rename(work, dir);
    } finally {
      if (runtime && (await isSameProcess(runtime.qemuPid, runtime.startTicks))) process.kill(runtime.qemuPid, 'SIGKILL');
      await removeSandboxCgroups(this.options.cgroupParent, id, 5000).catch(() => undefined);
      await fs.rm(work, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  async stop(runtime: SandboxRuntime): Promise<void> {
    const record = asMicrovmRuntime(runtime);
    await this.cleanup(record.sandboxId, record.dir, record);
  }

  private async cleanup(sandboxId: string, dir: string, runtime: MicrovmRuntime | undefined): Promise<void> {
    if (runtime && (await isSameProcess(runtime.qemuPid, runtime.startTicks))) {
      try {
        process.kill(runtime.qemuPid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await removeSandboxCgroups(this.options.cgroupParent, sandboxId, 5000);
    const removal = fs
      .rm(dir, { recursive: true, force: true, maxRetries: 3 })
      .catch(() => undefined)
      .finally(() => this.pendingRemovals.delete(removal));
    this.pendingRemovals.add(removal);
  }

  async reapOrphans(keepSandboxIds: ReadonlySet<string>): Promise<number> {
    let reaped = 0;
    for (const name of await fs.readdir(this.options.sandboxesDir).catch(() => [] as string[])) {
      if (keepSandboxIds.has(name)) continue;
      const dir = path.join(this.options.sandboxesDir, name);
      const pid = Number.parseInt(await fs.readFile(path.join(dir, 'qemu.pid'), 'utf8').catch(() => ''), 10);
      const cmdline = Number.isInteger(pid) ? await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '') : '';
      // Only a QEMU that uses this sandbox's directory is ours to kill (the pid may have been reused).
      if (cmdline.includes(dir)) process.kill(pid, 'SIGKILL');
      await this.cleanup(name, dir, undefined);
      reaped += 1;
    }
    return reaped;
  }

  async isAlive(runtime: SandboxRuntime): Promise<boolean> {
    const { qemuPid, startTicks } = asMicrovmRuntime(runtime);
    return isSameProcess(qemuPid, startTicks);
  }

  endpoint(runtime: SandboxRuntime): SupervisorEndpoint {
    return { socketPath: asMicrovmRuntime(runtime).channelSocket };
  }

  async usage(runtime: SandboxRuntime): Promise<ResourceUsage | undefined> {
    return readUsage(this.options.cgroupParent, asMicrovmRuntime(runtime).sandboxId);
  }

  /** The QEMU process: it holds all of the guest's memory. */
  async pids(runtime: SandboxRuntime): Promise<number[]> {
    return cgroupPids(this.options.cgroupParent, asMicrovmRuntime(runtime).sandboxId);
  }

  /**
   * Tool files are not offered inside microVM guests yet (they need a third, replaceable read-only disk or a
   * virtiofs share): the call succeeds without effect so creates with tools still work, and the README says so.
   */
  async writeTools(): Promise<void> {}

  /**
   * QMP `stop` halts the vCPUs (the guest sees no time pass while devices are quiesced), then the cgroup
   * freezer stops QEMU's own threads too, like the other backends' pooled sandboxes; thaw undoes both.
   */
  async freeze(runtime: SandboxRuntime): Promise<void> {
    const { qmpSocket, sandboxId } = asMicrovmRuntime(runtime);
    await withQmp(qmpSocket, (qmp) => qmp.execute('stop'));
    setFrozen(this.options.cgroupParent, sandboxId, true);
  }

  async thaw(runtime: SandboxRuntime): Promise<void> {
    const { qmpSocket, sandboxId } = asMicrovmRuntime(runtime);
    setFrozen(this.options.cgroupParent, sandboxId, false);
    await withQmp(qmpSocket, (qmp) => qmp.execute('cont'));
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.pendingRemovals, ...this.snapshotting.values()]);
  }

  async pause(): Promise<SandboxRuntime> {
    throw new UnsupportedError('pause', 'microVM pause to disk (a per-sandbox memory snapshot) is not wired into Hearth yet');
  }

  async resume(): Promise<SandboxRuntime> {
    throw new UnsupportedError('resume', 'the microvm backend has no paused sandboxes to resume yet');
  }
}

async function waitForExit(pid: number, startTicks: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (await isSameProcess(pid, startTicks)) {
    if (Date.now() > deadline) throw new InternalError(`QEMU ${pid} did not quit after saving its snapshot`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export { SnapshotInvalidError };
