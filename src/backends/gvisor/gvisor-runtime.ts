// What the gVisor backend remembers about a running sandbox (persisted as JSON, read back after a daemon restart).
import { InternalError } from '../../errors/hearth-error.js';
import type { SandboxRuntime } from '../backend.js';
import { asNetnsAddresses, type NetnsAddresses } from './netns-addresses.js';
import { isRunscPlatform, type RunscPlatform } from './platform-choice.js';

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
  /** The template it runs (checked against a checkpoint's manifest before a resume). */
  templateId?: string;
  /** Overlay lower layers, topmost first, to mount the root again on resume. */
  lowers?: string[];
  network?: 'none' | 'sandbox' | 'host';
  /** The prepared namespace's addresses and routes, which runsc moves into its netstack. */
  netns?: NetnsAddresses;
  /** The runsc platform it runs on (a checkpoint restores only on the platform that saved it). */
  platform?: RunscPlatform;
  /** Set while paused: the sandbox's processes are gone and its checkpoint image is in `<diskDir>/checkpoint`. */
  paused?: boolean;
}

export function asGvisorRuntime(runtime: SandboxRuntime): GvisorRuntime {
  const { sandboxId, dir, diskDir, socketPath, sentryPid, startTicks, externalWork } = runtime as Partial<GvisorRuntime>;
  if (typeof sandboxId !== 'string' || typeof dir !== 'string' || typeof diskDir !== 'string' || typeof socketPath !== 'string' || typeof sentryPid !== 'number' || typeof startTicks !== 'number') {
    throw new InternalError('gvisor runtime record is incomplete');
  }
  const { templateId, lowers, network, netns, paused, platform } = runtime as Partial<GvisorRuntime>;
  const saved = asNetnsAddresses(netns);
  return {
    backend: 'gvisor', sandboxId, dir, diskDir, socketPath, sentryPid, startTicks,
    ...(typeof externalWork === 'string' ? { externalWork } : {}),
    ...(typeof templateId === 'string' ? { templateId } : {}),
    ...(Array.isArray(lowers) ? { lowers: lowers.filter((entry): entry is string => typeof entry === 'string') } : {}),
    ...(network === 'none' || network === 'sandbox' || network === 'host' ? { network } : {}),
    ...(saved ? { netns: saved } : {}),
    ...(typeof platform === 'string' && isRunscPlatform(platform) ? { platform } : {}),
    ...(paused === true ? { paused } : {}),
  };
}
