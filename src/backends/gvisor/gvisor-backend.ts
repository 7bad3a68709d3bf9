// The gVisor backend: each sandbox runs under runsc (a user-space kernel) with the same overlay root,
// supervisor, limits and tool files as the namespaces backend; the host reaches the supervisor's socket
// through a bind-mounted directory.
import { promises as fs } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { BackendMisconfiguredError, InternalError, UnsupportedError } from '../../errors/hearth-error.js';
import type { Backend, BackendCapabilities, ResourceUsage, SandboxRuntime, SandboxSpec, StartedSandbox, SupervisorEndpoint } from '../backend.js';
import { cgroupPids, readUsage, removeSandboxCgroups, setFrozen } from '../namespaces/cgroup-v1.js';
import { isSameProcess, processStartTicks } from '../namespaces/process-identity.js';
import { SANDBOX_UID_BASE, identityNetwork, writeSandboxIdentityFiles } from '../namespaces/sandbox-identity.js';
import { writeToolIndex } from '../namespaces/tool-files.js';
import { asGvisorRuntime, type GvisorRuntime } from './gvisor-runtime.js';
import { checkGvisorHost, findRunsc } from './gvisor-host-check.js';
import { ociSpec, SOCKET_NAME } from './oci-spec.js';
import { mountRootOverlay, unmountRootOverlay } from './root-overlay.js';
import { globalFlags, lastLine, runsc, type RunscOptions } from './runsc-command.js';

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
  /** systrap (default), ptrace or kvm. */
  platform: string;
  launchTimeoutMs: number;
}

const RUNSC_TIMEOUT_MS = 30_000;
const SOCKET_POLL_MS = 2;

export class GvisorBackend implements Backend {
  readonly kind = 'gvisor';

  private readonly runscBinary = findRunsc();
  private readonly pendingRemovals = new Set<Promise<void>>();

  constructor(private readonly options: GvisorBackendOptions) {}

  private get runscOptions(): RunscOptions {
    if (!this.runscBinary) throw new BackendMisconfiguredError('runsc is not installed');
    return { binary: this.runscBinary, stateDir: this.options.stateDir, platform: this.options.platform };
  }

  capabilities(): BackendCapabilities {
    return { pause: false, snapshot: false, fork: false, network: 'loopback', limits: { memory: true, pids: true, cpu: true, disk: false } };
  }

  /** Fails with what to install; returns a one-line description (runsc version and platform) for the log. */
  async checkHost(): Promise<void> {
    await checkGvisorHost(this.runscBinary, this.options.supervisorBinary, this.options.platform);
    // The gofer drops to the sandbox's root uid: it must be able to traverse to every bundle path.
    await fs.mkdir(this.options.sandboxesDir, { recursive: true, mode: 0o700 });
    await makeTraversable(this.options.bundlesDir);
    await fs.mkdir(this.options.stateDir, { recursive: true, mode: 0o700 });
  }

  async start(spec: SandboxSpec): Promise<StartedSandbox> {
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
      await fs.mkdir(upper);
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
    const partial = { sandboxId: spec.sandboxId, dir, diskDir, ...(spec.upperDir ? { externalWork: work } : {}) };
    try {
      await mountRootOverlay(lowers, upper, work, rootfs);
      const network = spec.network === 'host' ? 'host' : spec.netnsPath ? 'sandbox' : 'none';
      const pidFile = path.join(dir, 'sentry.pid');
      const args = [...globalFlags(this.runscOptions, network), 'run', '--detach', `--bundle=${dir}`, `--pid-file=${pidFile}`, spec.sandboxId];
      const logFile = path.join(dir, 'runsc.log');
      const outcome = await runsc(this.runscOptions, args, this.options.launchTimeoutMs, logFile);
      if (outcome.code !== 0) {
        const log = await fs.readFile(logFile, 'utf8').catch(() => '');
        throw new InternalError(`runsc run failed (exit ${outcome.code}): ${lastLine(log)}`);
      }
      const sentryPid = Number.parseInt(await fs.readFile(pidFile, 'utf8'), 10);
      const startTicks = Number.isInteger(sentryPid) ? await processStartTicks(sentryPid) : undefined;
      if (startTicks === undefined) throw new InternalError(`gVisor sandbox ${spec.sandboxId} exited right after runsc run`);
      await waitForListener(socketPath, this.options.launchTimeoutMs);
      const runtime: GvisorRuntime = { backend: 'gvisor', socketPath, sentryPid, startTicks, ...partial };
      return { runtime: { ...runtime }, endpoint: { socketPath } };
    } catch (error) {
      await this.cleanup(partial.sandboxId, dir, diskDir, partial.externalWork);
      throw error;
    }
  }

  async stop(runtime: SandboxRuntime): Promise<void> {
    const { sandboxId, dir, diskDir, externalWork } = asGvisorRuntime(runtime);
    await this.cleanup(sandboxId, dir, diskDir, externalWork);
  }

  /** Kills the sandbox (runsc delete, then whatever is left in its cgroups), unmounts its root and removes its files in the background. */
  private async cleanup(sandboxId: string, dir: string, diskDir: string, externalWork?: string): Promise<void> {
    const parent = this.options.cgroupParent;
    // A frozen sentry cannot act on SIGKILL: thaw first.
    try {
      setFrozen(parent, sandboxId, false);
    } catch {
      // no freezer cgroup: never started or already gone
    }
    if (this.runscBinary) {
      await runsc(this.runscOptions, [`--root=${this.options.stateDir}`, 'delete', '--force', sandboxId], RUNSC_TIMEOUT_MS).catch(() => undefined);
    }
    await removeSandboxCgroups(parent, sandboxId, 5000);
    await fs.rmdir(path.join('/sys/fs/cgroup/cpuset', parent, sandboxId)).catch(() => undefined);
    const unmounted = await unmountRootOverlay(path.join(dir, 'root'));
    if (!unmounted) throw new InternalError(`cannot unmount the root of gVisor sandbox ${sandboxId}; its files stay in ${dir}`);
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
    await Promise.allSettled([...this.pendingRemovals]);
  }

  async pause(): Promise<SandboxRuntime> {
    throw new UnsupportedError('pause', 'gVisor checkpoint/restore is not wired into Hearth yet (issue 7, second part)');
  }

  async resume(): Promise<SandboxRuntime> {
    throw new UnsupportedError('resume', 'gVisor checkpoint/restore is not wired into Hearth yet (issue 7, second part)');
  }
}

/** Resolves once something accepts connections on `socketPath` (the supervisor binds and listens right after it starts). */
async function waitForListener(socketPath: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const connected = await new Promise<boolean>((resolve) => {
      const socket = net.connect(socketPath);
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (connected) return;
    if (Date.now() > deadline) throw new InternalError(`the gVisor sandbox's supervisor did not listen on ${socketPath} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, SOCKET_POLL_MS));
  }
}

/** Creates `dir` and makes it and every directory above it traversable by other users (adds o+x, never read). */
async function makeTraversable(dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o711 });
  for (let current = dir; current !== path.dirname(current); current = path.dirname(current)) {
    const { mode } = await fs.stat(current);
    if ((mode & 0o001) === 0) await fs.chmod(current, (mode & 0o7777) | 0o001);
  }
}
