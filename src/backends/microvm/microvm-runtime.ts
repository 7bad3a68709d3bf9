// What the microVM backend records per sandbox (persisted, so a restarted daemon finds its guests again).
import { InternalError } from '../../errors/hearth-error.js';
import type { SnapshotIdentity } from './snapshot-header.js';

export interface MicrovmRuntime {
  backend: 'microvm';
  sandboxId: string;
  dir: string;
  qemuPid: number;
  startTicks: number;
  channelSocket: string;
  /** The guest's control port (tool files). */
  controlSocket: string;
  qmpSocket: string;
  /** How the guest came up: booted, restored from its template's memory snapshot, or restored into a pre-spawned QEMU. */
  origin: 'boot' | 'restore' | 'prespawned';
  /** The sandbox's network namespace the guest's tap was wired into (undone at stop). */
  netnsPath?: string;
  /** What the guest is (kernel, template, root image, shape): a pause or fork image of it must match. */
  identity?: SnapshotIdentity;
  templateId?: string;
  /** The read-only root image the guest's page cache refers to; a resume reopens the same one. */
  rootImagePath?: string;
  /** A restored guest's first directory, now a link to `dir` (QEMU reopens its disks by that path). */
  aliasPath?: string;
  /** The cgroup limits QEMU runs under (a resume recreates them). */
  limits?: GuestLimits;
  /** No QEMU runs: the guest's memory is in `<dir>/paused/`, its disk in `<dir>`. */
  paused?: boolean;
}

export interface GuestLimits {
  memoryMiB: number;
  pidsLimit: number;
  cpuCount: number;
}

export function asMicrovmRuntime(runtime: Record<string, unknown>): MicrovmRuntime {
  const { sandboxId, dir, qemuPid, startTicks, channelSocket, controlSocket, qmpSocket, origin, netnsPath, identity, templateId, rootImagePath, paused, limits, aliasPath } = runtime as Partial<MicrovmRuntime>;
  if (typeof sandboxId !== 'string' || typeof dir !== 'string' || typeof qemuPid !== 'number' || typeof startTicks !== 'number' ||
    typeof channelSocket !== 'string' || typeof qmpSocket !== 'string') {
    throw new InternalError('microvm runtime record is incomplete');
  }
  return {
    backend: 'microvm', sandboxId, dir, qemuPid, startTicks, channelSocket, qmpSocket,
    controlSocket: typeof controlSocket === 'string' ? controlSocket : `${dir}/control.sock`,
    origin: origin === 'restore' || origin === 'prespawned' ? origin : 'boot',
    ...(typeof netnsPath === 'string' ? { netnsPath } : {}),
    ...(identity && typeof identity === 'object' ? { identity } : {}),
    ...(typeof templateId === 'string' ? { templateId } : {}),
    ...(typeof rootImagePath === 'string' ? { rootImagePath } : {}),
    ...(paused === true ? { paused } : {}),
    ...(limits && typeof limits === 'object' ? { limits } : {}),
    ...(typeof aliasPath === 'string' ? { aliasPath } : {}),
  };
}
