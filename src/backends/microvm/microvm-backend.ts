// The microVM backend: each sandbox is a QEMU `microvm` guest with its own kernel, the template root on a
// read-only disk, a private writable disk, and the same supervisor as PID 1 reached over virtio-serial. A
// template's first sandbox boots and leaves a memory snapshot behind; later ones restore from it, into QEMU
// processes pre-spawned to wait for it (incoming-pool.ts).
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { InternalError, UnsupportedError } from '../../errors/hearth-error.js';
import type { Backend, BackendCapabilities, ResourceUsage, SandboxRuntime, SandboxSpec, StartedSandbox, SupervisorEndpoint } from '../backend.js';
import { cgroupPath, cgroupPids, createSandboxCgroups, readUsage, removeSandboxCgroups, SANDBOX_CONTROLLERS, setFrozen, availableControllers } from '../namespaces/cgroup-v1.js';
import { isSameProcess, processStartTicks } from '../namespaces/process-identity.js';
import { findGuestKernel, type GuestKernel } from './guest-kernel.js';
import { identifyGuest, type GuestNetworkIdentity } from './guest-identity.js';
import { GuestNetworks } from './guest-network.js';
import { sendTools } from './guest-tools.js';
import { IncomingPool, type IncomingGuest } from './incoming-pool.js';
import { asMicrovmRuntime, type MicrovmRuntime } from './microvm-runtime.js';
import { checkSnapshot, prepareIncoming, snapshotIdentity, snapshotKey, snapshotPaths, startIncoming, waitUntilRunning, type SnapshotPaths } from './memory-snapshots.js';
import { qemuArgs, type MachineShape, type QemuLaunch } from './qemu-command.js';
import { checkMicrovmHost, findQemu, probeKvm, type Accelerator } from './qemu-host-check.js';
import { spawnQemu, waitForSocket } from './qemu-process.js';
import { QmpClient, withQmp } from './qmp-client.js';
import { RootImages, type RootImage } from './root-image.js';
import { copySparse, SandboxDisks } from './sandbox-disk-image.js';
import { SnapshotInvalidError, type SnapshotIdentity } from './snapshot-header.js';
import { TemplateSnapshots } from './template-snapshots.js';

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
  /** QEMU processes kept waiting for a restore, per snapshot and limits (HEARTH_MICROVM_PRESPAWN, default 1). */
  prespawnPerKey?: number;
  log: (message: string) => void;
}

/** What QEMU itself needs on top of guest RAM under the sandbox's memory limit (TCG translation cache, devices). */
export const QEMU_OVERHEAD_MIB = 128;
const MIN_GUEST_MEMORY_MIB = 128;
const KVM_PROBE_TIMEOUT_MS = 5_000;
const QMP_READY_TIMEOUT_MS = 10_000;
const CONTROL_TIMEOUT_MS = 10_000;
/** `LABEL hearth.microvm.snapshot=off`: the template's sandboxes always boot (the bench's boot scenario, or guests that must not be clones). */
export const SNAPSHOT_LABEL = 'hearth.microvm.snapshot';

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
  private readonly snapshots: TemplateSnapshots;
  private readonly networks = new GuestNetworks();
  private readonly incoming: IncomingPool;
  private readonly verifiedSnapshots = new Set<string>();
  private readonly pendingRemovals = new Set<Promise<void>>();

  constructor(private readonly options: MicrovmBackendOptions) {
    this.rootImages = new RootImages(path.join(options.microvmDir, 'images'), options.supervisorBinary);
    this.disks = new SandboxDisks(path.join(options.microvmDir, 'images'));
    this.snapshots = new TemplateSnapshots({
      disks: this.disks,
      cgroupParent: options.cgroupParent,
      bootTimeoutMs: options.bootTimeoutMs,
      spawn: (id, dir, spec, launch) => this.spawn(id, dir, spec, launch),
      launchFor: (dir, rootImage, diskImage, shape, network) => this.launchFor(dir, rootImage, diskImage, shape, network),
      log: options.log,
    });
    this.incoming = new IncomingPool(options.prespawnPerKey ?? 1, (guest) => this.discardIncoming(guest), options.log);
  }

  /** The accelerator in use (known after checkHost). */
  get accelerator(): Accelerator {
    return this.accel;
  }

  capabilities(): BackendCapabilities {
    return { pause: false, snapshot: this.options.snapshots, fork: false, network: 'bridged', limits: { memory: true, pids: true, cpu: true, disk: true } };
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

  /** Where the snapshot a sandbox like `spec` restores from lives, and the identity it must carry. */
  async snapshotFor(spec: SandboxSpec): Promise<{ identity: SnapshotIdentity; paths: SnapshotPaths; rootImage: RootImage; shape: MachineShape }> {
    const shape = machineShape(spec);
    const rootImage = await this.rootImages.imageFor(spec.template);
    const identity = snapshotIdentity({ template: spec.template, kernel: this.ready().kernel.identity, rootImage: rootImage.identity, diskMiB: spec.diskMiB, network: spec.netnsPath !== undefined, shape });
    return { identity, paths: snapshotPaths(path.join(this.options.microvmDir, 'snapshots', snapshotKey(identity))), rootImage, shape };
  }

  async start(spec: SandboxSpec): Promise<StartedSandbox> {
    const { identity, paths: snapshot, rootImage, shape } = await this.snapshotFor(spec);
    const restorable = this.options.snapshots && !spec.upperDir && spec.network !== 'host' && (spec.template.config.labels as Record<string, string> | undefined)?.[SNAPSHOT_LABEL] !== 'off';
    if (restorable) await this.snapshots.ensure(snapshot, spec, shape, rootImage.path, identity);
    const useSnapshot = restorable && (await fs.stat(snapshot.header).then(() => true, () => false));
    if (useSnapshot) await checkSnapshot(snapshot, identity, this.verifiedSnapshots);
    const dir = path.join(this.options.sandboxesDir, spec.sandboxId);
    return useSnapshot ? this.restoreInto(spec, dir, snapshot, rootImage.path, shape) : this.boot(spec, dir, rootImage.path, shape);
  }

  private async boot(spec: SandboxSpec, dir: string, rootImage: string, shape: MachineShape): Promise<StartedSandbox> {
    await fs.mkdir(dir, { mode: 0o700 });
    const network = spec.netnsPath !== undefined;
    const diskImage = path.join(dir, 'disk.ext4');
    let runtime: MicrovmRuntime | undefined;
    try {
      await copySparse(await this.disks.blank(spec.diskMiB), diskImage);
      runtime = await this.spawn(spec.sandboxId, dir, spec, this.launchFor(dir, rootImage, diskImage, shape, network));
      const started = await this.identify(runtime, spec);
      return { runtime: { ...started }, endpoint: { socketPath: runtime.channelSocket } };
    } catch (error) {
      await this.cleanup(spec.sandboxId, dir, runtime);
      throw error;
    }
  }

  /** Restores the snapshot into a pre-spawned QEMU (or a fresh one when none waits): load state, wire the network, IDENTIFY. */
  private async restoreInto(spec: SandboxSpec, dir: string, snapshot: SnapshotPaths, rootImage: string, shape: MachineShape): Promise<StartedSandbox> {
    const key = `${path.basename(snapshot.dir)}:${spec.memoryMiB}:${spec.cpuCount}:${spec.pidsLimit}`;
    const { guest, hit } = await this.incoming.take(key, () => this.spawnIncoming(spec, snapshot, rootImage, shape));
    let runtime: MicrovmRuntime | undefined;
    try {
      await fs.rename(guest.dir, dir);
      // QEMU reopens its disk by the old path when the state has loaded (images stay inactive until then)
      await fs.symlink(dir, guest.dir);
      await renameCgroups(this.options.cgroupParent, guest.cgroupName, spec.sandboxId);
      await fs.writeFile(path.join(dir, 'sandbox-id'), spec.sandboxId);
      runtime = this.runtimeFor(spec.sandboxId, dir, guest.qemuPid, guest.startTicks, hit ? 'prespawned' : 'restore');
      await startIncoming(guest.qmp, snapshot.state);
      const running = waitUntilRunning(guest.qmp).finally(() => fs.rm(guest.dir, { force: true }));
      running.catch(() => undefined);
      const started = await this.identify(runtime, spec, running);
      return { runtime: { ...started }, endpoint: { socketPath: runtime.channelSocket } };
    } catch (error) {
      await this.cleanup(spec.sandboxId, runtime ? dir : guest.dir, runtime ?? { ...this.runtimeFor(spec.sandboxId, guest.dir, guest.qemuPid, guest.startTicks, 'restore') });
      await removeSandboxCgroups(this.options.cgroupParent, guest.cgroupName, 5000).catch(() => undefined);
      await fs.rm(guest.dir, { force: true, recursive: true }).catch(() => undefined);
      throw error;
    } finally {
      guest.qmp.close();
    }
  }

  /** Wires the network (while the state loads), then tells the guest who it is. */
  private async identify(runtime: MicrovmRuntime, spec: SandboxSpec, running?: Promise<void>): Promise<MicrovmRuntime> {
    let network: GuestNetworkIdentity | undefined;
    let record = runtime;
    if (spec.netnsPath) {
      record = { ...runtime, netnsPath: spec.netnsPath };
      const address = await this.networks.plug(runtime.qemuPid, spec.netnsPath);
      network = { ...address, ...(spec.nameserver ? { nameserver: spec.nameserver } : {}), ...(spec.trustedCaPem ? { trustedCaPem: spec.trustedCaPem } : {}) };
    }
    await running;
    const noNewPrivileges = spec.noNewPrivileges === true;
    await identifyGuest(runtime.channelSocket, { hostname: spec.hostname, baseEnv: spec.baseEnv, noNewPrivileges, ...(network ? { network } : {}) }, this.options.bootTimeoutMs);
    return record;
  }

  /** A QEMU waiting for the snapshot's state: own directory (disk copy, sockets) and cgroups, named for no sandbox yet. */
  private async spawnIncoming(spec: SandboxSpec, snapshot: SnapshotPaths, rootImage: string, shape: MachineShape): Promise<IncomingGuest> {
    const name = `incoming-${randomBytes(6).toString('hex')}`;
    const dir = path.join(this.options.sandboxesDir, name);
    await fs.mkdir(dir, { mode: 0o700 });
    let runtime: MicrovmRuntime | undefined;
    try {
      const diskImage = path.join(dir, 'disk.ext4');
      await copySparse(snapshot.disk, diskImage);
      const launch = { ...this.launchFor(dir, rootImage, diskImage, shape, spec.netnsPath !== undefined), memoryFile: { path: snapshot.ram, share: false }, incoming: true };
      runtime = await this.spawn(name, dir, spec, launch);
      const qmp = await QmpClient.connect(runtime.qmpSocket, QMP_READY_TIMEOUT_MS);
      await prepareIncoming(qmp);
      return { dir, cgroupName: name, qemuPid: runtime.qemuPid, startTicks: runtime.startTicks, qmp };
    } catch (error) {
      await this.cleanup(name, dir, runtime);
      throw error;
    }
  }

  private async discardIncoming(guest: IncomingGuest): Promise<void> {
    guest.qmp.close();
    await this.cleanup(guest.cgroupName, guest.dir, this.runtimeFor(guest.cgroupName, guest.dir, guest.qemuPid, guest.startTicks, 'restore'));
  }

  private runtimeFor(sandboxId: string, dir: string, qemuPid: number, startTicks: number, origin: MicrovmRuntime['origin']): MicrovmRuntime {
    return {
      backend: 'microvm', sandboxId, dir, qemuPid, startTicks, origin,
      channelSocket: path.join(dir, 'supervisor.sock'), controlSocket: path.join(dir, 'control.sock'), qmpSocket: path.join(dir, 'qmp.sock'),
    };
  }

  private launchFor(dir: string, rootImage: string, diskImage: string, shape: MachineShape, network: boolean): QemuLaunch {
    return {
      accelerator: this.accel,
      vmlinuxPath: this.ready().kernel.vmlinuxPath,
      rootImage,
      diskImage,
      channelSocket: path.join(dir, 'supervisor.sock'),
      controlSocket: path.join(dir, 'control.sock'),
      qmpSocket: path.join(dir, 'qmp.sock'),
      consoleLog: path.join(dir, 'console.log'),
      shape,
      network,
    };
  }

  private async spawn(id: string, dir: string, spec: SandboxSpec, launch: QemuLaunch): Promise<MicrovmRuntime> {
    const procsFiles = await createSandboxCgroups(this.options.cgroupParent, id, { memoryMiB: spec.memoryMiB, pidsLimit: spec.pidsLimit, cpuCount: spec.cpuCount });
    const qemuPid = await spawnQemu(this.ready().qemu, qemuArgs(launch), procsFiles, path.join(dir, 'qemu.log'), launch.network);
    const startTicks = await processStartTicks(qemuPid);
    if (startTicks === undefined) throw new InternalError(`QEMU for ${id} exited at once: see ${path.join(dir, 'qemu.log')}`);
    await fs.writeFile(path.join(dir, 'qemu.pid'), `${qemuPid} ${startTicks}`);
    const runtime = this.runtimeFor(id, dir, qemuPid, startTicks, 'boot');
    await waitForSocket(launch.qmpSocket, QMP_READY_TIMEOUT_MS, () => isSameProcess(qemuPid, startTicks), 'QEMU');
    return runtime;
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
    // the tap went with QEMU (the cgroup removal waited for it); the redirect on eth0 must go before the slot is reused
    if (runtime?.netnsPath) await this.networks.unplug(runtime.netnsPath);
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
      const [pidText, ticksText] = (await fs.readFile(path.join(dir, 'qemu.pid'), 'utf8').catch(() => '')).split(' ');
      const pid = Number.parseInt(pidText ?? '', 10);
      const startTicks = Number.parseInt(ticksText ?? '', 10);
      // Only the very process we started is ours to kill (the pid may have been reused).
      const runtime = Number.isInteger(pid) && Number.isInteger(startTicks) ? this.runtimeFor(name, dir, pid, startTicks, 'boot') : undefined;
      await this.cleanup(name, dir, runtime);
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

  /** Replaces the guest's read-only /run/hearth/tools through its control port. */
  async writeTools(runtime: SandboxRuntime, files: Record<string, string>): Promise<void> {
    await sendTools(asMicrovmRuntime(runtime).controlSocket, files, CONTROL_TIMEOUT_MS);
  }

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

  /** QEMU processes waiting for a restore right now. */
  get prespawned(): number {
    return this.incoming.size;
  }

  async close(): Promise<void> {
    await this.incoming.close();
    await this.snapshots.close();
    await Promise.allSettled([...this.pendingRemovals]);
    this.networks.close();
  }

  async pause(): Promise<SandboxRuntime> {
    throw new UnsupportedError('pause', 'microVM pause to disk (a per-sandbox memory snapshot) is not wired into Hearth yet');
  }

  async resume(): Promise<SandboxRuntime> {
    throw new UnsupportedError('resume', 'the microvm backend has no paused sandboxes to resume yet');
  }
}

/** Renames a pre-spawned QEMU's cgroups to the sandbox's (cgroup v1 directories rename in place; charges stay). */
async function renameCgroups(parent: string, from: string, to: string): Promise<void> {
  const controllers = new Set<string>(await availableControllers());
  for (const controller of SANDBOX_CONTROLLERS) {
    if (!controllers.has(controller)) continue;
    // co-mounted controllers (cpu,cpuacct) share one directory: the first rename moved it for both
    await fs.rename(cgroupPath(controller, parent, from), cgroupPath(controller, parent, to)).catch(async (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT' || !(await fs.stat(cgroupPath(controller, parent, to)).then(() => true, () => false))) throw error;
    });
  }
}

export { SnapshotInvalidError };
