// The default backend: Linux namespaces + overlayfs + cgroup v1, with the native supervisor as PID 1.
import { promises as fs, constants as fsConstants } from 'node:fs';
import path from 'node:path';
import { BackendMisconfiguredError, InternalError, UnsupportedError } from '../../errors/hearth-error.js';
import type {
  Backend,
  BackendCapabilities,
  ResourceUsage,
  SandboxRuntime,
  SandboxSpec,
  StartedSandbox,
  SupervisorEndpoint,
} from '../backend.js';
import { availableControllers, cgroupPids, createSandboxCgroups, readUsage, removeSandboxCgroups, setFrozen } from './cgroup-v1.js';
import { isSameProcess, processStartTicks } from './process-identity.js';
import { LauncherSpawner } from './launcher-spawner.js';
import { writeToolIndex } from './tool-files.js';
import { criuUnsupportedReason, probeCriu } from './criu-support.js';
import { TOOLS_MOUNT_PATH } from '../../core/tool-definitions.js';
import { SANDBOX_UID_BASE, SANDBOX_UID_COUNT } from './sandbox-identity.js';
import { ensureSandboxDisk } from './sandbox-disk.js';
import { prepareLayout, sandboxLayout, volumeArgs } from './sandbox-layout.js';
import { identityNetwork } from './sandbox-identity.js';

export interface NamespacesBackendOptions {
  /** Directory holding one subdirectory per sandbox (upper/work layers and the supervisor socket). */
  sandboxesDir: string;
  supervisorBinary: string;
  cgroupParent: string;
  launchTimeoutMs: number;
  /** The CRIU binary pause would checkpoint with; default `criu` from PATH. */
  criuBinary?: string;
  /** Disk limits: sandboxesDir becomes a loop-mounted btrfs image with quotas (see sandbox-disk.ts); undefined runs without them. */
  disk?: { imagePath: string; sizeGiB: number };
}

interface NamespacesRuntime {
  hostPid: number;
  startTicks: number;
  dir: string;
  socketPath: string;
  sandboxId: string;
  /** A build step's overlay work dir beside its caller-owned upper dir, removed on stop. */
  externalWork?: string;
}

function asRuntime(runtime: SandboxRuntime): NamespacesRuntime {
  const { hostPid, startTicks, dir, socketPath, sandboxId, externalWork } = runtime as Partial<NamespacesRuntime>;
  if (typeof hostPid !== 'number' || typeof startTicks !== 'number' || typeof dir !== 'string' || typeof socketPath !== 'string' || typeof sandboxId !== 'string') {
    throw new InternalError('namespaces runtime record is incomplete');
  }
  return { hostPid, startTicks, dir, socketPath, sandboxId, ...(typeof externalWork === 'string' ? { externalWork } : {}) };
}

export class NamespacesBackend implements Backend {
  readonly kind = 'namespaces';

  private readonly spawner: LauncherSpawner;
  private readonly pendingRemovals = new Set<Promise<void>>();
  private criuUnsupported: Promise<string | undefined> | undefined;

  constructor(private readonly options: NamespacesBackendOptions) {
    this.spawner = new LauncherSpawner(options.supervisorBinary, options.launchTimeoutMs);
  }

  capabilities(): BackendCapabilities {
    return {
      pause: false,
      snapshot: false,
      fork: false,
      network: 'bridged',
      limits: { memory: true, pids: true, cpu: true, disk: this.options.disk !== undefined },
    };
  }

  async checkHost(): Promise<void> {
    if (process.getuid?.() !== 0) {
      throw new BackendMisconfiguredError('the namespaces backend needs root (it mounts overlayfs and writes uid maps): run `hearth serve` as root');
    }
    try {
      await fs.access(this.options.supervisorBinary, fsConstants.X_OK);
    } catch (error) {
      throw new BackendMisconfiguredError(
        `supervisor binary ${this.options.supervisorBinary} is missing: build it with \`make -C native/supervisor\` (needs gcc and libc6-dev)`,
        { cause: error },
      );
    }
    const filesystems = await fs.readFile('/proc/filesystems', 'utf8');
    if (!filesystems.includes('overlay')) {
      throw new BackendMisconfiguredError('the kernel has no overlayfs: load it with `modprobe overlay`');
    }
    const controllers = await availableControllers();
    for (const needed of ['memory', 'pids', 'freezer'] as const) {
      if (!controllers.includes(needed)) {
        throw new BackendMisconfiguredError(`cgroup v1 controller "${needed}" is not mounted under /sys/fs/cgroup: sandbox limits cannot be enforced`);
      }
    }
    if (this.options.disk) await ensureSandboxDisk({ sandboxesDir: this.options.sandboxesDir, ...this.options.disk });
  }

  async start(spec: SandboxSpec): Promise<StartedSandbox> {
    const dir = path.join(this.options.sandboxesDir, spec.sandboxId);
    const layout = sandboxLayout(dir, spec, this.options.disk !== undefined);
    const merged = path.join(dir, 'root');
    const socketPath = path.join(dir, 'supervisor.sock');
    const toolsDir = path.join(dir, 'tools');
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    await fs.mkdir(toolsDir, { mode: 0o755 });
    await writeToolIndex(toolsDir, { 'index.json': '{ "tools": [] }\n' });
    await Promise.all([prepareLayout(layout, spec.hostname, identityNetwork(spec)), fs.mkdir(merged)]);
    const procsFiles = await createSandboxCgroups(this.options.cgroupParent, spec.sandboxId, {
      memoryMiB: spec.memoryMiB,
      pidsLimit: spec.pidsLimit,
      cpuCount: spec.cpuCount,
    });
    const args = [
      'launch',
      ...[...layout.lowers, ...spec.template.layers].flatMap((layer) => ['--lower', layer]),
      '--upper', layout.upper,
      '--work', layout.work,
      ...volumeArgs(layout),
      '--merged', merged,
      '--hostname', spec.hostname,
      '--socket', socketPath,
      '--uid-base', String(SANDBOX_UID_BASE),
      '--uid-count', String(SANDBOX_UID_COUNT),
      ...procsFiles.flatMap((file) => ['--cgroup-procs', file]),
      ...Object.entries(spec.baseEnv).flatMap(([key, value]) => ['--env', `${key}=${value}`]),
      '--network', spec.network,
      ...(spec.netnsPath ? ['--netns', spec.netnsPath] : []),
      ...(spec.noNewPrivileges ? ['--no-new-privs', '1'] : []),
      ...(spec.toolsMount ? ['--bind', `${toolsDir}:${TOOLS_MOUNT_PATH}:ro`] : []),
    ];
    let hostPid: number;
    try {
      hostPid = await this.launch(args);
    } catch (error) {
      await this.cleanup(spec.sandboxId, dir, layout.externalWork);
      throw error;
    }
    const startTicks = await processStartTicks(hostPid);
    if (startTicks === undefined) {
      await this.cleanup(spec.sandboxId, dir, layout.externalWork);
      throw new InternalError(`sandbox ${spec.sandboxId} exited right after launch`);
    }
    const runtime: NamespacesRuntime = { hostPid, startTicks, dir, socketPath, sandboxId: spec.sandboxId, ...(layout.externalWork ? { externalWork: layout.externalWork } : {}) };
    return { runtime: { ...runtime }, endpoint: { socketPath } };
  }

  private async launch(args: string[]): Promise<number> {
    const { exitStatus, output } = await this.spawner.launch(args);
    const pid = Number.parseInt(output.trim(), 10);
    if (exitStatus === 0 && Number.isInteger(pid) && pid > 0) return pid;
    throw new InternalError(`sandbox launch failed (exit ${exitStatus}): ${output.trim() || 'no output'}`);
  }

  async close(): Promise<void> {
    this.spawner.close();
    await Promise.allSettled([...this.pendingRemovals]);
  }

  /** Returns once every process is dead and the cgroups are gone; the sandbox's files are removed in the background. */
  async stop(runtime: SandboxRuntime): Promise<void> {
    const { hostPid, startTicks, dir, sandboxId, externalWork } = asRuntime(runtime);
    if (await isSameProcess(hostPid, startTicks)) {
      try {
        process.kill(hostPid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await this.cleanup(sandboxId, dir, externalWork);
  }

  private async cleanup(sandboxId: string, dir: string, externalWork?: string): Promise<void> {
    await removeSandboxCgroups(this.options.cgroupParent, sandboxId, 5000);
    // Not in the background: the caller publishes the directory beside it (a build layer) next.
    if (externalWork) await fs.rm(externalWork, { recursive: true, force: true });
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
      await this.cleanup(name, path.join(this.options.sandboxesDir, name));
      reaped += 1;
    }
    return reaped;
  }

  async isAlive(runtime: SandboxRuntime): Promise<boolean> {
    const { hostPid, startTicks } = asRuntime(runtime);
    return isSameProcess(hostPid, startTicks);
  }

  endpoint(runtime: SandboxRuntime): SupervisorEndpoint {
    return { socketPath: asRuntime(runtime).socketPath };
  }

  async usage(runtime: SandboxRuntime): Promise<ResourceUsage | undefined> {
    return readUsage(this.options.cgroupParent, asRuntime(runtime).sandboxId);
  }

  async pids(runtime: SandboxRuntime): Promise<number[]> {
    return cgroupPids(this.options.cgroupParent, asRuntime(runtime).sandboxId);
  }

  async writeTools(runtime: SandboxRuntime, files: Record<string, string>): Promise<void> {
    await writeToolIndex(path.join(asRuntime(runtime).dir, 'tools'), files);
  }

  async freeze(runtime: SandboxRuntime): Promise<void> {
    await setFrozen(this.options.cgroupParent, asRuntime(runtime).sandboxId, true);
  }

  async thaw(runtime: SandboxRuntime): Promise<void> {
    await setFrozen(this.options.cgroupParent, asRuntime(runtime).sandboxId, false);
  }

  /** Refused with the exact reason: the host's CRIU and kernel first, then what Hearth itself lacks. */
  async pause(): Promise<SandboxRuntime> {
    this.criuUnsupported ??= probeCriu(this.options.criuBinary ?? 'criu').then(criuUnsupportedReason);
    const reason = await this.criuUnsupported;
    const instead = 'create the sandbox on gVisor instead ("backend": "gvisor" or LABEL hearth.backend=gvisor in its template)';
    throw new UnsupportedError(
      'pause',
      reason
        ? `the namespaces backend checkpoints process memory with CRIU, and ${reason}; ${instead}`
        : `the namespaces backend cannot checkpoint process memory yet: Hearth does not run CRIU's dump and restore (it needs CRIU 4.2 or later on Linux 6.16 and later, and a sandbox layout whose namespaces all belong to the sandbox's user namespace); ${instead}`,
    );
  }

  async resume(): Promise<SandboxRuntime> {
    throw new UnsupportedError('resume', 'the namespaces backend has no paused sandboxes to resume');
  }
}
