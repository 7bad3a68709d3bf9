// What the microVM backend records per sandbox (persisted, so a restarted daemon finds its guests again).
import { InternalError } from '../../errors/hearth-error.js';

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
}

export function asMicrovmRuntime(runtime: Record<string, unknown>): MicrovmRuntime {
  const { sandboxId, dir, qemuPid, startTicks, channelSocket, controlSocket, qmpSocket, origin, netnsPath } = runtime as Partial<MicrovmRuntime>;
  if (typeof sandboxId !== 'string' || typeof dir !== 'string' || typeof qemuPid !== 'number' || typeof startTicks !== 'number' ||
    typeof channelSocket !== 'string' || typeof qmpSocket !== 'string') {
    throw new InternalError('microvm runtime record is incomplete');
  }
  return {
    backend: 'microvm', sandboxId, dir, qemuPid, startTicks, channelSocket, qmpSocket,
    controlSocket: typeof controlSocket === 'string' ? controlSocket : `${dir}/control.sock`,
    origin: origin === 'restore' || origin === 'prespawned' ? origin : 'boot',
    ...(typeof netnsPath === 'string' ? { netnsPath } : {}),
  };
}
