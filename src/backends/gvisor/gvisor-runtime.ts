// What the gVisor backend remembers about a running sandbox (persisted as JSON, read back after a daemon restart).
import { InternalError } from '../../errors/hearth-error.js';
import type { SandboxRuntime } from '../backend.js';

export interface GvisorRuntime {
  backend: 'gvisor';
  sandboxId: string;
  /** The bundle directory: config.json, merged root, socket and tool directories. */
  dir: string;
  /** The writable layer's directory (upper, work, identity files). */
  diskDir: string;
  socketPath: string;
  /** Host pid of the `runsc-sandbox` process and its start time, so a recycled pid is never mistaken for it. */
  sentryPid: number;
  startTicks: number;
  /** A build step's overlay work dir beside its caller-owned upper dir, removed on stop. */
  externalWork?: string;
}

export function asGvisorRuntime(runtime: SandboxRuntime): GvisorRuntime {
  const { sandboxId, dir, diskDir, socketPath, sentryPid, startTicks, externalWork } = runtime as Partial<GvisorRuntime>;
  if (typeof sandboxId !== 'string' || typeof dir !== 'string' || typeof diskDir !== 'string' || typeof socketPath !== 'string' || typeof sentryPid !== 'number' || typeof startTicks !== 'number') {
    throw new InternalError('gvisor runtime record is incomplete');
  }
  return { backend: 'gvisor', sandboxId, dir, diskDir, socketPath, sentryPid, startTicks, ...(typeof externalWork === 'string' ? { externalWork } : {}) };
}
