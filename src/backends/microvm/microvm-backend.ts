// The microVM backend: each sandbox is a QEMU `microvm` guest with its own kernel, the template root on a
// read-only disk, a private writable disk, and the same supervisor as PID 1 reached over virtio-serial. A
// template's first sandbox boots and leaves a memory snapshot behind; later ones restore from it, into QEMU
// processes pre-spawned to wait for it (incoming-pool.ts).
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { InternalError, UnsupportedError } from '../../errors/hearth-error.js';
import type { Backend, BackendCapabilities, ResourceUsage, SandboxRuntime, SandboxSnapshot, SandboxSpec, StartedSandbox, SupervisorEndpoint } from '../backend.js';
import { cgroupPath, cgroupPids, createSandboxCgroups, readUsage, removeSandboxCgroups, SANDBOX_CONTROLLERS, setFrozen, availableControllers } from '../namespaces/cgroup-v1.js';
import { isSameProcess, processStartTicks } from '../namespaces/process-identity.js';
import { collectMicrovmCache, touchSnapshot } from './cache-collector.js';
import { clockBootArgs, hostTscKhz } from './guest-clock.js';
import { findGuestKernel, type GuestKernel } from './guest-kernel.js';
import { identifyGuest, type GuestNetworkIdentity } from './guest-identity.js';
import { GuestNetworks } from './guest-network.js';
import { sendTools } from './guest-tools.js';
import { IncomingPool, type IncomingGuest } from './incoming-pool.js';
import { continueGuest, checkGuestImage, guestImagePaths, loadWholeGuest, saveWholeGuest, writeImageHeader } from './guest-images.js';
import { asMicrovmRuntime, type GuestLimits, type MicrovmRuntime } from './microvm-runtime.js';
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
  /** Cache entries unused this long are removed at start-up (HEARTH_MICROVM_CACHE_DAYS, default 7). */
  cacheMaxAgeMs?: number;
  log: (message: string) => void;
}

/** What QEMU itself needs on top of guest RAM under the sandbox's memory limit (TCG translation cache, devices). */
export const QEMU_OVERHEAD_MIB = 128;
const MIN_GUEST_MEMORY_MIB = 128;
const KVM_PROBE_TIMEOUT_MS = 5_000;
const QMP_READY_TIMEOUT_MS = 10_000;
const CONTROL_TIMEOUT_MS = 10_000;
const SAVE_TIMEOUT_MS = 120_000;
const DEFAULT_CACHE_MAX_AGE_MS = 7 * 24 * 3600 * 1000;
/** Under the sandboxes directory: pre-spawned QEMUs waiting for a restore, and the links restored guests leave behind. */
const INCOMING_DIR = '.incoming';
const DISK_FILE = 'disk.ext4';
/** Inside a paused sandbox's directory: its memory image. */
const PAUSED_IMAGE_DIR = 'paused';
/** `LABEL hearth.microvm.snapshot=off`: the template's sandboxes always boot (the bench's boot scenario, or guests that must not be clones). */
export const SNAPSHOT_LABEL = 'hearth.microvm.snapshot';

export function machineShape(spec: Pick<SandboxSpec, 'cpuCount' | 'memoryMiB' | 'pidsLimit'>): MachineShape {
  return {
    vcpus: Math.max(1, Math.ceil(spec.cpuCount)),
    guestMemoryMiB: Math.max(MIN_GUEST_MEMORY_MIB, spec.memoryMiB - QEMU_OVERHEAD_MIB),
    pidsLimit: spec.pidsLimit,
  };
}

function guestLimits(spec: GuestLimits): GuestLimits {
  return { memoryMiB: spec.memoryMiB, pidsLimit: spec.pidsLimit, cpuCount: spec.cpuCount };
}

export class MicrovmBackend implements Backend {
  readonly kind = 'microvm';

  private readonly qemuBinary = findQemu();
  private kernel: GuestKernel | undefined;
  private accel: Accelerator = 'tcg';
  private bootArgs: readonly string[] = [];
  private readonly rootImages: RootImages;
  private readonly disks: SandboxDisks;
  private readonly snapshots: TemplateSnapshots;
  private readonly networks = new GuestNetworks();
  private readonly incoming: IncomingPool;
  private readonly verifiedSnapshots = new Set<string>();
  private readonly pendingRemovals = new Set<Promise<void>>();
  private collecting: Promise<void> = Promise.resolve();

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
    return { pause: true, snapshot: true, fork: true, network: 'bridged', limits: { memory: true, pids: true, cpu: true, disk: true } };
  }

  async checkHost(): Promise<void> {
    this.kernel = await findGuestKernel(this.options.microvmDir, this.options.kernelPath);
    await checkMicrovmHost(this.qemuBinary, this.kernel?.vmlinuxPath, this.options.supervisorBinary);
    await fs.mkdir(this.options.sandboxesDir, { recursive: true, mode: 0o700 });
    if (this.options.accelerator) this.accel = this.options.accelerator;
    else this.accel = this.qemuBinary && this.kernel && probeKvm(this.qemuBinary, this.kernel.vmlinuxPath, KVM_PROBE_TIMEOUT_MS) ? 'kvm' : 'tcg';
    this.bootArgs = clockBootArgs(this.accel, hostTscKhz());
    if (this.accel === 'tcg') {
      this.options.log('microvm: WARNING: KVM cannot run the guest kernel here, guests run under TCG (software CPU emulation): expect slow commands');
    }
    this.options.log(`microvm: ${this.qemuBinary}, kernel ${this.kernel?.identity}, accelerator ${this.accel}`);
    this.collecting = this.collectCache();
  }

  /** Drops cache entries unused for the configured age (in the background: start-up does not wait for it). */
  private async collectCache(): Promise<void> {
    try {
      const { removed, freedBytes } = await collectMicrovmCache({ microvmDir: this.options.microvmDir, sandboxesDir: this.options.sandboxesDir, maxAgeMs: this.options.cacheMaxAgeMs ?? DEFAULT_CACHE_MAX_AGE_MS });
      if (removed.length > 0) this.options.log(`microvm: cache: removed ${removed.length} unused root image(s), disk(s) and snapshot(s), ${Math.round(freedBytes / 2 ** 20)} MiB freed`);
    } catch (error) {
      this.options.log(`microvm: cache collection failed: ${String(error)}`);
    }
  }

  private ready(): { qemu: string; kernel: GuestKernel } {
    if (!this.qemuBinary || !this.kernel) throw new InternalError('the microvm backend was used before its host check');
    return { qemu: this.qemuBinary, kernel: this.kernel };
  }

  /** Where the snapshot a sandbox like `spec` restores from lives, and the identity it must carry. */
  async snapshotFor(spec: SandboxSpec): Promise<{ identity: SnapshotIdentity; paths: SnapshotPaths; rootImage: RootImage; shape: MachineShape }> {
    const shape = machineShape(spec);
    const rootImage = await this.rootImages.imageFor(spec.template);
    const identity = snapshotIdentity({ template: spec.template, kernel: this.ready().kernel.identity, rootImage: rootImage.identity, diskMiB: spec.diskMiB, network: spec.netnsPath !== undefined, shape, bootArgs: this.bootArgs });
    return { identity, paths: snapshotPaths(path.join(this.options.microvmDir, 'snapshots', snapshotKey(identity))), rootImage, shape };
  }

  async start(spec: SandboxSpec): Promise<StartedSandbox> {
    const { identity, paths: snapshot, rootImage, shape } = await this.snapshotFor(spec);
    const restorable = this.options.snapshots && !spec.upperDir && spec.network !== 'host' && (spec.template.config.labels as Record<string, string> | undefined)?.[SNAPSHOT_LABEL] !== 'off';
    if (restorable) await this.snapshots.ensure(snapshot, spec, shape, rootImage.path, identity);
    const useSnapshot = restorable && (await fs.stat(snapshot.header).then(() => true, () => false)) && (await this.usableSnapshot(snapshot, identity));
    if (useSnapshot) void touchSnapshot(snapshot.dir);
    const dir = path.join(this.options.sandboxesDir, spec.sandboxId);
    const started = useSnapshot ? await this.restoreInto(spec, dir, snapshot, rootImage.path, shape) : await this.boot(spec, dir, rootImage.path, shape);
    const runtime: MicrovmRuntime = { ...asMicrovmRuntime(started.runtime), identity, templateId: spec.template.id, rootImagePath: rootImage.path, limits: guestLimits(spec) };
    return { runtime: { ...runtime }, endpoint: started.endpoint, ...(useSnapshot ? { templateServicesRunning: true } : {}) };
  }

  /** A template snapshot that fails its checks is a cache entry gone bad: dropped (the next create takes a new one), and this sandbox boots. */
  private async usableSnapshot(snapshot: SnapshotPaths, identity: SnapshotIdentity): Promise<boolean> {
    try {
      await checkSnapshot(snapshot, identity, this.verifiedSnapshots);
      return true;
    } catch (error) {
      if (!(error instanceof SnapshotInvalidError)) throw error;
      this.options.log(`microvm: dropping template snapshot ${snapshot.dir}: ${error.message}`);
      this.verifiedSnapshots.delete(snapshot.dir);
      await fs.rm(snapshot.dir, { recursive: true, force: true });
      return false;
    }
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
      // QEMU reopens its disks by their old path when the state has loaded and again whenever it saves state
      // (pause, fork): the old path stays a link to the sandbox's directory for the guest's life
      await fs.symlink(dir, guest.dir);
      await renameCgroups(this.options.cgroupParent, guest.cgroupName, spec.sandboxId);
      await fs.writeFile(path.join(dir, 'sandbox-id'), spec.sandboxId);
      runtime = { ...this.runtimeFor(spec.sandboxId, dir, guest.qemuPid, guest.startTicks, hit ? 'prespawned' : 'restore'), aliasPath: guest.dir };
      await startIncoming(guest.qmp, snapshot.state);
      const running = waitUntilRunning(guest.qmp);
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
    const dir = path.join(this.options.sandboxesDir, INCOMING_DIR, name);
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
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
      bootArgs: this.bootArgs,
      network,
    };
  }

  private async spawn(id: string, dir: string, limits: GuestLimits, launch: QemuLaunch): Promise<MicrovmRuntime> {
    const procsFiles = await createSandboxCgroups(this.options.cgroupParent, id, { memoryMiB: limits.memoryMiB, pidsLimit: limits.pidsLimit, cpuCount: limits.cpuCount });
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

  /** Kills the guest's QEMU and frees its cgroups and network wiring; the directory goes too unless `keepDir` (a pause keeps disk and image). */
  private async cleanup(sandboxId: string, dir: string, runtime: MicrovmRuntime | undefined, keepDir = false): Promise<void> {
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
    if (runtime?.aliasPath) await fs.unlink(runtime.aliasPath).catch(() => undefined);
    if (keepDir) return;
    const removal = fs
      .rm(dir, { recursive: true, force: true, maxRetries: 3 })
      .catch(() => undefined)
      .finally(() => this.pendingRemovals.delete(removal));
    this.pendingRemovals.add(removal);
  }

  async reapOrphans(keepSandboxIds: ReadonlySet<string>): Promise<number> {
    let reaped = 0;
    const incomingDir = path.join(this.options.sandboxesDir, INCOMING_DIR);
    const candidates = [
      ...(await fs.readdir(this.options.sandboxesDir).catch(() => [] as string[])).filter((name) => name !== INCOMING_DIR && !keepSandboxIds.has(name)).map((name) => path.join(this.options.sandboxesDir, name)),
      ...(await fs.readdir(incomingDir).catch(() => [] as string[])).map((name) => path.join(incomingDir, name)),
    ];
    for (const dir of candidates) {
      const name = path.basename(dir);
      // a restored guest's old path: a link to its sandbox's directory, dropped once that is gone
      if ((await fs.lstat(dir).catch(() => undefined))?.isSymbolicLink()) {
        if (!keepSandboxIds.has(path.basename(await fs.readlink(dir).catch(() => '')))) await fs.unlink(dir).catch(() => undefined);
        continue;
      }
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
    const { qemuPid, startTicks, paused } = asMicrovmRuntime(runtime);
    return !paused && isSameProcess(qemuPid, startTicks);
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
    await this.collecting;
    await this.incoming.close();
    await this.snapshots.close();
    await Promise.allSettled([...this.pendingRemovals]);
    this.networks.close();
  }

  /** Saves the guest's whole memory to `<dir>/paused/` and stops its QEMU; the disk stays where it is. */
  async pause(runtime: SandboxRuntime): Promise<SandboxRuntime> {
    const current = asMicrovmRuntime(runtime);
    if (current.paused) return runtime;
    const { identity } = recordedGuest(current, 'pause');
    const paths = guestImagePaths(path.join(current.dir, PAUSED_IMAGE_DIR), path.join(current.dir, DISK_FILE));
    await fs.rm(paths.dir, { recursive: true, force: true });
    await fs.mkdir(paths.dir, { mode: 0o700 });
    try {
      await withQmp(current.qmpSocket, (qmp) => saveWholeGuest(qmp, paths.state).catch(async (error: unknown) => {
        await continueGuest(qmp).catch(() => undefined);
        throw error;
      }), SAVE_TIMEOUT_MS);
    } catch (error) {
      await fs.rm(paths.dir, { recursive: true, force: true });
      throw error;
    }
    await this.cleanup(current.sandboxId, current.dir, current, true);
    await writeImageHeader(paths, identity, 'pause', current.sandboxId);
    for (const socket of [current.channelSocket, current.controlSocket, current.qmpSocket]) await fs.rm(socket, { force: true });
    return { ...current, paused: true };
  }

  /** Loads a paused guest's memory into a new QEMU over the same disk; a bad image is refused and the sandbox stays paused. */
  async resume(runtime: SandboxRuntime): Promise<SandboxRuntime> {
    const current = asMicrovmRuntime(runtime);
    if (!current.paused) return runtime;
    const { identity, rootImagePath, limits } = recordedGuest(current, 'resume');
    const paths = guestImagePaths(path.join(current.dir, PAUSED_IMAGE_DIR), path.join(current.dir, DISK_FILE));
    const header = await checkGuestImage(paths, identity, 'pause', current.sandboxId);
    const launch: QemuLaunch = { ...this.launchFor(current.dir, rootImagePath, paths.disk, header.shape, header.network), incoming: true };
    const fresh = await this.spawn(current.sandboxId, current.dir, limits, launch);
    const resumed: MicrovmRuntime = { ...current, qemuPid: fresh.qemuPid, startTicks: fresh.startTicks };
    delete resumed.paused;
    try {
      await withQmp(fresh.qmpSocket, async (qmp) => {
        await loadWholeGuest(qmp, paths.state);
        const plugged = current.netnsPath ? this.networks.plug(fresh.qemuPid, current.netnsPath) : Promise.resolve();
        await Promise.all([waitUntilRunning(qmp), plugged]);
      }, this.options.bootTimeoutMs);
      // the guest slept: its clock is behind, and its entropy pool is as old as the image
      await identifyGuest(fresh.channelSocket, {}, this.options.bootTimeoutMs);
    } catch (error) {
      await this.cleanup(current.sandboxId, current.dir, { ...fresh, ...(current.netnsPath ? { netnsPath: current.netnsPath } : {}) }, true);
      throw error;
    }
    await fs.rm(paths.dir, { recursive: true, force: true });
    return { ...resumed };
  }

  /** Checkpoints a running guest (memory and a disk copy, taken while its vCPUs are stopped) and lets it run on. */
  async snapshot(runtime: SandboxRuntime, dir: string): Promise<SandboxSnapshot> {
    const current = asMicrovmRuntime(runtime);
    const { identity } = recordedGuest(current, 'snapshot');
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    const paths = guestImagePaths(dir);
    await withQmp(current.qmpSocket, async (qmp) => {
      try {
        await saveWholeGuest(qmp, paths.state);
        await copySparse(path.join(current.dir, DISK_FILE), paths.disk);
      } finally {
        await continueGuest(qmp);
      }
    }, SAVE_TIMEOUT_MS);
    await writeImageHeader(paths, identity, 'fork', current.sandboxId);
    return { dir, templateId: current.templateId ?? '', sourceSandboxId: current.sandboxId };
  }

  /** A new guest from a fork image: its own disk copy and QEMU, the image's machine shape, the new sandbox's identity and network. */
  async restore(spec: SandboxSpec, snapshot: SandboxSnapshot): Promise<StartedSandbox> {
    const { identity, rootImage } = await this.snapshotFor(spec);
    const source = guestImagePaths(snapshot.dir);
    const header = await checkGuestImage(source, identity, 'fork');
    const dir = path.join(this.options.sandboxesDir, spec.sandboxId);
    await fs.mkdir(dir, { mode: 0o700 });
    let runtime: MicrovmRuntime | undefined;
    try {
      const diskImage = path.join(dir, DISK_FILE);
      await copySparse(source.disk, diskImage);
      runtime = await this.spawn(spec.sandboxId, dir, spec, { ...this.launchFor(dir, rootImage.path, diskImage, header.shape, header.network), incoming: true });
      const qmp = await QmpClient.connect(runtime.qmpSocket, QMP_READY_TIMEOUT_MS);
      let started: MicrovmRuntime;
      try {
        await loadWholeGuest(qmp, source.state);
        started = await this.identify(runtime, spec, waitUntilRunning(qmp));
      } finally {
        qmp.close();
      }
      const restored: MicrovmRuntime = { ...started, origin: 'restore', identity: { ...identity, shape: header.shape, diskMiB: header.diskMiB }, templateId: spec.template.id, rootImagePath: rootImage.path, limits: guestLimits(spec) };
      return { runtime: { ...restored }, endpoint: { socketPath: restored.channelSocket }, templateServicesRunning: true };
    } catch (error) {
      await this.cleanup(spec.sandboxId, dir, runtime && spec.netnsPath ? { ...runtime, netnsPath: spec.netnsPath } : runtime);
      throw error;
    }
  }
}

/** What pause, resume and snapshot need from a guest's record; guests started before Hearth recorded it cannot. */
function recordedGuest(runtime: MicrovmRuntime, operation: string): { identity: SnapshotIdentity; rootImagePath: string; limits: GuestLimits } {
  const { identity, rootImagePath, limits } = runtime;
  if (!identity || !rootImagePath || !limits) throw new UnsupportedError(operation, `sandbox ${runtime.sandboxId} was started by an older Hearth that did not record its guest's identity`);
  return { identity, rootImagePath, limits };
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
