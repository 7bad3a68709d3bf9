// The gVisor backend: each sandbox runs under runsc (a user-space kernel) with the same overlay root,
// supervisor, limits and tool files as the namespaces backend; the host reaches the supervisor's socket
// through a bind-mounted directory.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { BackendMisconfiguredError, ConflictError, InternalError } from '../../errors/hearth-error.js';
import type { Backend, BackendCapabilities, ResourceUsage, SandboxRuntime, SandboxSnapshot, SandboxSpec, StartedSandbox, SupervisorEndpoint } from '../backend.js';
import { cgroupPids, readUsage, removeFromAllHierarchies, removeSandboxCgroups, setFrozen } from '../namespaces/cgroup-v1.js';
import { isSameProcess } from '../namespaces/process-identity.js';
import { SANDBOX_UID_BASE, identityNetwork, writeSandboxIdentityFiles } from '../namespaces/sandbox-identity.js';
import { writeToolIndex } from '../namespaces/tool-files.js';
import { asGvisorRuntime, type GvisorRuntime } from './gvisor-runtime.js';
import { checkGvisorHost, findRunsc, probedPlatforms } from './gvisor-host-check.js';
import { ociSpec, SOCKET_NAME } from './oci-spec.js';
import { mountRootOverlay, unmountRootOverlay } from './root-overlay.js';
import { CHECKPOINT_FLAGS, globalFlags, lastLine, runsc, type RunscOptions } from './runsc-command.js';
import { restoreSentry, runSentry, type SentryLaunch } from './sentry-launch.js';
import { readCheckpointManifest, verifyCheckpointFiles, writeManifest, type CheckpointKind } from './checkpoint-manifest.js';
import { choosePlatform, isRunscPlatform, type RunscPlatform } from './platform-choice.js';
import { quiesceSupervisor, reopenSupervisor, waitForListener } from './checkpoint-signals.js';
import { copyTree } from './copy-tree.js';
import { captureNetnsAddresses, restoreNetnsAddresses, type NetnsAddresses } from './netns-addresses.js';
import { refreshIdentity } from './sandbox-identity-refresh.js';

export interface GvisorBackendOptions {
  /** One subdirectory per sandbox holding its writable layer (upper, work) and identity files; may be private (0700). */
  sandboxesDir: string;
  /**
   * One subdirectory per sandbox holding its OCI bundle, merged root, socket and tool directories. The gofer
   * runs as the sandbox's root (host uid 100000), so every directory above these must be traversable (0711).
   */
  bundlesDir: string;
  /** runsc's own state directory (`--root`). */
  stateDir: string;
  supervisorBinary: string;
  cgroupParent: string;
  /** `auto` (measured on first use, see platform-choice.ts), systrap, ptrace or kvm. */
  platform: string;
  /** Where `auto` keeps its measurement until reboot (shared by every server on the host). */
  platformCacheDir: string;
  launchTimeoutMs: number;
  /** Says once which platform was chosen and why. */
  log?: (line: string) => void;
}

const RUNSC_TIMEOUT_MS = 30_000;

export class GvisorBackend implements Backend {
  readonly kind = 'gvisor';

  private readonly runscBinary = findRunsc();
  private readonly pendingRemovals = new Set<Promise<void>>();
  /** Paused sandboxes whose sentry is still being deleted (runsc delete takes a second or two after a checkpoint). */
  private readonly pendingReleases = new Map<string, Promise<void>>();
  /** The host check and the platform choice, made once on first use. */
  private hostReady: Promise<RunscPlatform> | undefined;

  constructor(private readonly options: GvisorBackendOptions) {}

  private get runscOptions(): RunscOptions {
    if (!this.runscBinary) throw new BackendMisconfiguredError('runsc is not installed');
    return { binary: this.runscBinary, stateDir: this.options.stateDir };
  }

  /** The platform new sandboxes run on; a checkpoint keeps the platform that saved it. */
  private defaultPlatform(): Promise<RunscPlatform> {
    this.hostReady ??= this.prepareHost();
    return this.hostReady;
  }

  capabilities(): BackendCapabilities {
    return { pause: true, snapshot: true, fork: true, network: 'bridged', limits: { memory: true, pids: true, cpu: true, disk: false } };
  }

  /** Fails with what to install or change. */
  async checkHost(): Promise<void> {
    await this.defaultPlatform();
  }

  private async prepareHost(): Promise<RunscPlatform> {
    const version = await checkGvisorHost(this.runscBinary, this.options.supervisorBinary, this.options.platform);
    // The gofer drops to the sandbox's root uid: it must be able to traverse to every bundle path.
    await fs.mkdir(this.options.sandboxesDir, { recursive: true, mode: 0o700 });
    await makeTraversable(this.options.bundlesDir);
    await fs.mkdir(this.options.stateDir, { recursive: true, mode: 0o700 });
    await fs.mkdir(this.options.platformCacheDir, { recursive: true, mode: 0o711 });
    const choice = await choosePlatform(this.options.platform, this.runscOptions.binary, version, probedPlatforms(version), this.options.platformCacheDir);
    this.options.log?.(`gVisor: runsc ${version}, platform ${choice.platform} (${choice.reason})`);
    return choice.platform;
  }

  async start(spec: SandboxSpec): Promise<StartedSandbox> {
    return this.launch(spec, await this.defaultPlatform(), undefined);
  }

  /**
   * A new sandbox from another one's checkpoint: its own bundle, identity and network over a copy of the
   * source's files. The image is hashed while the root and runsc's processes are made ready, and read only once it passed.
   */
  async restore(spec: SandboxSpec, snapshot: SandboxSnapshot): Promise<StartedSandbox> {
    const { platform, verified } = await this.beginImageCheck(snapshotImageDir(snapshot.dir), { templateId: spec.template.id }, `checkpoint ${snapshot.dir}`, undefined);
    return this.launch(spec, platform, { snapshot, verified });
  }

  /**
   * The cheap checks of an image (manifest, identity, sizes) now, its hash started in the background: `verified`
   * is awaited by whoever restores, after anything that fails first. runsc restores an image only on the platform
   * that saved it: the manifest's, else the sandbox's, else today's default.
   */
  private async beginImageCheck(imageDir: string, expected: { templateId: string; sandboxId?: string }, what: string, runtimePlatform: RunscPlatform | undefined): Promise<{ platform: RunscPlatform; verified: Promise<void> }> {
    const manifest = await readCheckpointManifest(imageDir, expected, what);
    const platform = manifest.platform !== undefined && isRunscPlatform(manifest.platform) ? manifest.platform : (runtimePlatform ?? (await this.defaultPlatform()));
    const verified = verifyCheckpointFiles(imageDir, manifest, what);
    verified.catch(() => undefined);
    return { platform, verified };
  }

  private async launch(spec: SandboxSpec, platform: RunscPlatform, from: { snapshot: SandboxSnapshot; verified: Promise<unknown> } | undefined): Promise<StartedSandbox> {
    const dir = path.join(this.options.bundlesDir, spec.sandboxId);
    const diskDir = path.join(this.options.sandboxesDir, spec.sandboxId);
    const rootfs = path.join(dir, 'root');
    const socketDir = path.join(dir, 'socket');
    const toolsDir = path.join(dir, 'tools');
    const identity = path.join(diskDir, 'identity');
    const upper = spec.upperDir ?? path.join(diskDir, 'upper');
    const work = spec.upperDir ? `${spec.upperDir}.work` : path.join(diskDir, 'work');
    const lowers = spec.upperDir ? spec.template.layers : [identity, ...spec.template.layers];
    await Promise.all([fs.mkdir(dir, { mode: 0o711 }), fs.mkdir(diskDir, { mode: 0o700 })]);
    await Promise.all([fs.mkdir(rootfs), fs.mkdir(socketDir, { mode: 0o700 }), fs.mkdir(toolsDir, { mode: 0o755 }), fs.mkdir(work)]);
    if (!spec.upperDir) {
      if (from) await copyTree(snapshotUpperDir(from.snapshot.dir), upper);
      else await fs.mkdir(upper);
      await fs.mkdir(identity, { mode: 0o755 });
      await writeSandboxIdentityFiles(identity, spec.hostname, identityNetwork(spec));
    }
    // The merged root takes its owner from the upper dir; the socket directory must be writable by the sandbox's root.
    await fs.chown(upper, SANDBOX_UID_BASE, SANDBOX_UID_BASE);
    await fs.chown(socketDir, SANDBOX_UID_BASE, SANDBOX_UID_BASE);
    await writeToolIndex(toolsDir, { 'index.json': '{ "tools": [] }\n' });
    const cgroupsPath = `/${this.options.cgroupParent}/${spec.sandboxId}`;
    const config = ociSpec(spec, { rootfs, supervisorBinary: this.options.supervisorBinary, socketDir, toolsDir, cgroupsPath });
    await fs.writeFile(path.join(dir, 'config.json'), JSON.stringify(config));
    const socketPath = path.join(socketDir, SOCKET_NAME);
    const network = spec.network === 'host' ? 'host' : spec.netnsPath ? 'sandbox' : 'none';
    const netns = spec.netnsPath && spec.network !== 'host' ? await captureNetnsAddresses(spec.netnsPath) : undefined;
    const partial = {
      sandboxId: spec.sandboxId, dir, diskDir, templateId: spec.template.id, lowers, network,
      ...(spec.upperDir ? { externalWork: work } : {}), ...(netns ? { netns } : {}),
    } as const;
    try {
      await mountRootOverlay(lowers, upper, work, rootfs);
      const launch = this.sentryLaunch(spec.sandboxId, platform, dir, network);
      const { sentryPid, startTicks } = from ? await restoreSentry(launch, snapshotImageDir(from.snapshot.dir), from.verified) : await runSentry(launch);
      if (from) {
        await reopenSupervisor(this.runscOptions, spec.sandboxId, socketPath, this.options.launchTimeoutMs);
        await refreshIdentity(socketPath, spec.hostname, spec.baseEnv, this.options.launchTimeoutMs);
      } else {
        await waitForListener(socketPath, this.options.launchTimeoutMs);
      }
      const runtime: GvisorRuntime = { backend: 'gvisor', socketPath, sentryPid, startTicks, platform, ...partial };
      return { runtime: { ...runtime }, endpoint: { socketPath } };
    } catch (error) {
      await this.cleanup(partial.sandboxId, dir, diskDir, partial.externalWork, netns);
      throw error;
    }
  }

  private sentryLaunch(sandboxId: string, platform: RunscPlatform, bundleDir: string, network: 'none' | 'sandbox' | 'host'): SentryLaunch {
    return { runsc: this.runscOptions, sandboxId, platform, bundleDir, network, timeoutMs: this.options.launchTimeoutMs };
  }

  async stop(runtime: SandboxRuntime): Promise<void> {
    const { sandboxId, dir, diskDir, externalWork, netns } = asGvisorRuntime(runtime);
    await this.pendingReleases.get(sandboxId);
    await this.cleanup(sandboxId, dir, diskDir, externalWork, netns);
  }

  /** Kills the sandbox's processes and frees its cgroups and root mount, keeping its files; gives its network namespace its addresses back. */
  private async release(sandboxId: string, dir: string, netns: NetnsAddresses | undefined): Promise<void> {
    const parent = this.options.cgroupParent;
    // A frozen sentry cannot act on SIGKILL: thaw first.
    try {
      setFrozen(parent, sandboxId, false);
    } catch {
      // no freezer cgroup: never started or already gone
    }
    // the sentry, gofer and stubs die at once, whatever runsc delete does next
    for (const pid of await cgroupPids(parent, sandboxId).catch(() => [] as number[])) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (this.runscBinary) {
      await runsc(this.runscOptions, [`--root=${this.options.stateDir}`, 'delete', '--force', sandboxId], RUNSC_TIMEOUT_MS).catch(() => undefined);
    }
    await removeSandboxCgroups(parent, sandboxId, 5000);
    await removeFromAllHierarchies(path.join(parent, sandboxId));
    const unmounted = await unmountRootOverlay(path.join(dir, 'root'));
    if (!unmounted) throw new InternalError(`cannot unmount the root of gVisor sandbox ${sandboxId}; its files stay in ${dir}`);
    // the namespace may already be gone (a slot the network manager removed): nothing to give back then
    if (netns) await restoreNetnsAddresses(netns).catch(() => undefined);
  }

  /** Kills the sandbox (runsc delete, then whatever is left in its cgroups), unmounts its root and removes its files in the background. */
  private async cleanup(sandboxId: string, dir: string, diskDir: string, externalWork?: string, netns?: NetnsAddresses): Promise<void> {
    await this.release(sandboxId, dir, netns);
    const removal = Promise.all([
      fs.rm(dir, { recursive: true, force: true, maxRetries: 3 }),
      fs.rm(diskDir, { recursive: true, force: true, maxRetries: 3 }),
      externalWork ? fs.rm(externalWork, { recursive: true, force: true }) : Promise.resolve(),
    ])
      .then(() => undefined)
      .catch(() => undefined)
      .finally(() => this.pendingRemovals.delete(removal));
    this.pendingRemovals.add(removal);
  }

  async reapOrphans(keepSandboxIds: ReadonlySet<string>): Promise<number> {
    const orphans = new Set<string>();
    if (this.runscBinary) {
      const listed = await runsc(this.runscOptions, [`--root=${this.options.stateDir}`, 'list', '--quiet'], RUNSC_TIMEOUT_MS).catch(() => undefined);
      for (const id of listed?.stdout.split('\n').map((line) => line.trim()).filter(Boolean) ?? []) if (!keepSandboxIds.has(id)) orphans.add(id);
    }
    for (const parent of [this.options.bundlesDir, this.options.sandboxesDir]) {
      for (const name of await fs.readdir(parent).catch(() => [] as string[])) if (!keepSandboxIds.has(name)) orphans.add(name);
    }
    for (const id of orphans) {
      await this.cleanup(id, path.join(this.options.bundlesDir, id), path.join(this.options.sandboxesDir, id)).catch(() => undefined);
    }
    return orphans.size;
  }

  async isAlive(runtime: SandboxRuntime): Promise<boolean> {
    const { sentryPid, startTicks } = asGvisorRuntime(runtime);
    return isSameProcess(sentryPid, startTicks);
  }

  endpoint(runtime: SandboxRuntime): SupervisorEndpoint {
    return { socketPath: asGvisorRuntime(runtime).socketPath };
  }

  async usage(runtime: SandboxRuntime): Promise<ResourceUsage | undefined> {
    return readUsage(this.options.cgroupParent, asGvisorRuntime(runtime).sandboxId);
  }

  /** The sentry, gofer and their helper processes: the host processes that hold the sandbox's memory. */
  async pids(runtime: SandboxRuntime): Promise<number[]> {
    return cgroupPids(this.options.cgroupParent, asGvisorRuntime(runtime).sandboxId);
  }

  async writeTools(runtime: SandboxRuntime, files: Record<string, string>): Promise<void> {
    await writeToolIndex(path.join(asGvisorRuntime(runtime).dir, 'tools'), files);
  }

  /** The cgroup freezer stops the sentry and gofer as a whole: one write, like the namespaces backend. */
  async freeze(runtime: SandboxRuntime): Promise<void> {
    setFrozen(this.options.cgroupParent, asGvisorRuntime(runtime).sandboxId, true);
  }

  async thaw(runtime: SandboxRuntime): Promise<void> {
    setFrozen(this.options.cgroupParent, asGvisorRuntime(runtime).sandboxId, false);
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.pendingReleases.values()]);
    await Promise.allSettled([...this.pendingRemovals]);
    // this server's directory under /run goes once no sandbox (running or paused) keeps a bundle in it
    await fs.rmdir(this.options.bundlesDir).catch(() => undefined);
  }

  /** runsc checkpoint into `<diskDir>/checkpoint` (with its manifest), then frees the sentry, cgroups and root mount; files stay. */
  async pause(runtime: SandboxRuntime): Promise<SandboxRuntime> {
    const current = asGvisorRuntime(runtime);
    if (current.paused) return runtime;
    const imageDir = pauseImageDir(current.diskDir);
    await this.checkpoint(current, imageDir, 'pause', false);
    // the image is complete: the sentry's leftovers are deleted in the background (a resume waits for that)
    const release = this.release(current.sandboxId, current.dir, current.netns)
      .catch(() => undefined)
      .finally(() => this.pendingReleases.delete(current.sandboxId));
    this.pendingReleases.set(current.sandboxId, release);
    return { ...runtime, paused: true };
  }

  private async runscKnows(sandboxId: string): Promise<boolean> {
    const names = await fs.readdir(this.options.stateDir).catch(() => [] as string[]);
    return names.some((name) => name.startsWith(`${sandboxId}_`));
  }

  /**
   * Checks the pause image while the host side is made ready again (root mounted, addresses back, runsc's
   * sandbox created), then `runsc restore`s the same processes; runsc reads the image only once every file's
   * hash matched. The image is removed in the background once they run.
   */
  async resume(runtime: SandboxRuntime): Promise<SandboxRuntime> {
    const current = asGvisorRuntime(runtime);
    if (!current.paused) return runtime;
    const { sandboxId, dir, diskDir, templateId, lowers, netns } = current;
    if (!templateId || !lowers) throw new InternalError(`gVisor sandbox ${sandboxId} was paused by an older Hearth and cannot be resumed`);
    const imageDir = pauseImageDir(diskDir);
    const { platform, verified } = await this.beginImageCheck(imageDir, { templateId, sandboxId }, `the pause image of sandbox ${sandboxId}`, current.platform);
    try {
      try {
        await this.prepareResume(current, lowers);
      } catch (error) {
        // a bad image is the reason worth reporting, whatever else failed
        await verified;
        throw error;
      }
      const { sentryPid, startTicks } = await restoreSentry(this.sentryLaunch(sandboxId, platform, dir, current.network ?? 'none'), imageDir, verified);
      await reopenSupervisor(this.runscOptions, sandboxId, current.socketPath, this.options.launchTimeoutMs);
      await this.discardImage(imageDir);
      const resumed: Record<string, unknown> = { ...runtime, sentryPid, startTicks, platform };
      delete resumed['paused'];
      return resumed;
    } catch (error) {
      // Nothing of the image ran, or what ran is killed: the sandbox stays exactly as it was paused, image and files kept.
      await this.release(sandboxId, dir, netns).catch(() => undefined);
      throw error;
    }
  }

  /** What a resume needs on the host before runsc runs: the pause's release finished, the root mounted, the addresses back. */
  private async prepareResume(current: GvisorRuntime, lowers: string[]): Promise<void> {
    const { sandboxId, dir, diskDir, netns } = current;
    await this.pendingReleases.get(sandboxId);
    // a daemon restart may have cut the background release short: finish it now
    if (await this.runscKnows(sandboxId)) await this.release(sandboxId, dir, netns);
    await mountRootOverlay(lowers, path.join(diskDir, 'upper'), path.join(diskDir, 'work'), path.join(dir, 'root'));
    if (netns) await restoreNetnsAddresses(netns);
  }

  /** A restored sandbox never reads its image again: it is moved aside at once and deleted in the background (freeing 200 MiB takes tens of ms). */
  private async discardImage(imageDir: string): Promise<void> {
    const aside = `${imageDir}.restored-${Date.now()}`;
    try {
      await fs.rename(imageDir, aside);
    } catch {
      await fs.rm(imageDir, { recursive: true, force: true });
      return;
    }
    const removal = fs
      .rm(aside, { recursive: true, force: true, maxRetries: 3 })
      .catch(() => undefined)
      .finally(() => this.pendingRemovals.delete(removal));
    this.pendingRemovals.add(removal);
  }

  /** Checkpoints a running sandbox with --leave-running and copies its writable layer: what forks and template snapshots start from. */
  async snapshot(runtime: SandboxRuntime, dir: string): Promise<SandboxSnapshot> {
    const current = asGvisorRuntime(runtime);
    if (current.paused) throw new ConflictError(`sandbox ${current.sandboxId} is paused: resume it before taking a snapshot`);
    if (!current.templateId) throw new InternalError(`gVisor sandbox ${current.sandboxId} was started by an older Hearth and cannot be snapshotted`);
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    await this.checkpoint(current, snapshotImageDir(dir), 'fork', true);
    // The source runs on: its files are copied while its processes are stopped, so they match the memory image closely.
    setFrozen(this.options.cgroupParent, current.sandboxId, true);
    try {
      await copyTree(path.join(current.diskDir, 'upper'), snapshotUpperDir(dir));
    } finally {
      setFrozen(this.options.cgroupParent, current.sandboxId, false);
    }
    return { dir, templateId: current.templateId, sourceSandboxId: current.sandboxId };
  }

  /** The supervisor lets go of its host socket, runsc writes the image, the manifest is added; on failure the sandbox carries on. */
  private async checkpoint(current: GvisorRuntime, imageDir: string, kind: CheckpointKind, leaveRunning: boolean): Promise<void> {
    const { sandboxId, socketPath } = current;
    const platform = current.platform ?? (await this.defaultPlatform());
    await fs.rm(imageDir, { recursive: true, force: true });
    await fs.mkdir(imageDir, { recursive: true, mode: 0o700 });
    await quiesceSupervisor(this.runscOptions, sandboxId, socketPath, this.options.launchTimeoutMs);
    let saved = false;
    try {
      const args = [...globalFlags(this.runscOptions, platform, current.network ?? 'none'), 'checkpoint', ...CHECKPOINT_FLAGS, `--image-path=${imageDir}`, ...(leaveRunning ? ['--leave-running'] : []), sandboxId];
      const outcome = await runsc(this.runscOptions, args, RUNSC_TIMEOUT_MS);
      if (outcome.code !== 0) throw new InternalError(`runsc checkpoint of ${sandboxId} failed (exit ${outcome.code}): ${checkpointFailure(outcome.stderr)}`);
      await writeManifest(imageDir, { backend: 'gvisor', templateId: current.templateId ?? '', sandboxId, kind, platform });
      saved = true;
    } finally {
      if (leaveRunning || !saved) await reopenSupervisor(this.runscOptions, sandboxId, socketPath, this.options.launchTimeoutMs).catch(() => undefined);
      if (!saved) await fs.rm(imageDir, { recursive: true, force: true });
    }
  }
}

/** runsc prints a Go stack after the reason: keep the first line that says what failed. */
function checkpointFailure(stderr: string): string {
  const reason = stderr.split('\n').find((line) => /checkpoint failed|error|cannot/i.test(line));
  return (reason ?? lastLine(stderr)).trim().slice(0, 500);
}

export function pauseImageDir(diskDir: string): string {
  return path.join(diskDir, 'checkpoint');
}

export function snapshotImageDir(snapshotDir: string): string {
  return path.join(snapshotDir, 'image');
}

function snapshotUpperDir(snapshotDir: string): string {
  return path.join(snapshotDir, 'upper');
}

/** Creates `dir` and makes it and every directory above it traversable by other users (adds o+x, never read). */
async function makeTraversable(dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o711 });
  for (let current = dir; current !== path.dirname(current); current = path.dirname(current)) {
    const { mode } = await fs.stat(current);
    if ((mode & 0o001) === 0) await fs.chmod(current, (mode & 0o7777) | 0o001);
  }
}
