// What the microVM backend records per sandbox (persisted, so a restarted daemon finds its guests again).
import { InternalError } from '../../errors/hearth-error.js';

export interface MicrovmRuntime {
  backend: 'microvm';
  sandboxId: string;
  dir: string;
  qemuPid: number;
  startTicks: number;
  channelSocket: string;
  qmpSocket: string;
  /** How the guest came up: booted, or restored from its template's memory snapshot. */
  origin: 'boot' | 'restore';
}

export function asMicrovmRuntime(runtime: Record<string, unknown>): MicrovmRuntime {
  const { sandboxId, dir, qemuPid, startTicks, channelSocket, qmpSocket, origin } = runtime as Partial<MicrovmRuntime>;
  if (typeof sandboxId !== 'string' || typeof dir !== 'string' || typeof qemuPid !== 'number' || typeof startTicks !== 'number' ||
    typeof channelSocket !== 'string' || typeof qmpSocket !== 'string') {
    throw new InternalError('microvm runtime record is incomplete');
  }
  return { backend: 'microvm', sandboxId, dir, qemuPid, startTicks, channelSocket, qmpSocket, origin: origin === 'restore' ? 'restore' : 'boot' };
}
