// The microVM backend as a server configures it: its own settings come from the environment
//   HEARTH_MICROVM_DIR        shared cache of kernels, root images and snapshots (default /var/lib/hearth/microvm)
//   HEARTH_MICROVM_KERNEL     a vmlinux to boot instead of the cached build
//   HEARTH_MICROVM_ACCEL      kvm or tcg, skipping the probe
//   HEARTH_MICROVM_SNAPSHOTS  0: always boot, never snapshot
//   HEARTH_MICROVM_PRESPAWN   QEMU processes kept waiting for a restore per snapshot and limits (default 1, 0: none)
//   HEARTH_MICROVM_CACHE_DAYS cache entries (root images, disks, snapshots) unused this many days go at start-up (default 7)
import path from 'node:path';
import type { ServerConfig } from '../../config/server-config.js';
import { BackendMisconfiguredError } from '../../errors/hearth-error.js';
import { MicrovmBackend } from './microvm-backend.js';

export const DEFAULT_MICROVM_DIR = '/var/lib/hearth/microvm';

export function microvmBackend(config: ServerConfig, env: NodeJS.ProcessEnv = process.env): MicrovmBackend {
  const accel = env['HEARTH_MICROVM_ACCEL'];
  if (accel !== undefined && accel !== 'kvm' && accel !== 'tcg') throw new BackendMisconfiguredError(`HEARTH_MICROVM_ACCEL must be kvm or tcg, got ${accel}`);
  const kernelPath = env['HEARTH_MICROVM_KERNEL'];
  return new MicrovmBackend({
    sandboxesDir: path.join(config.dataDir, 'microvm', 'sandboxes'),
    microvmDir: env['HEARTH_MICROVM_DIR'] ?? DEFAULT_MICROVM_DIR,
    supervisorBinary: config.supervisorBinary,
    cgroupParent: config.cgroupParent,
    bootTimeoutMs: 60_000,
    ...(kernelPath ? { kernelPath } : {}),
    ...(accel ? { accelerator: accel } : {}),
    snapshots: env['HEARTH_MICROVM_SNAPSHOTS'] !== '0',
    prespawnPerKey: prespawn(env['HEARTH_MICROVM_PRESPAWN']),
    cacheMaxAgeMs: cacheDays(env['HEARTH_MICROVM_CACHE_DAYS']) * 24 * 3600 * 1000,
    log: (message) => process.stderr.write(`${message}\n`),
  });
}

function prespawn(text: string | undefined): number {
  if (text === undefined) return 1;
  const count = Number(text);
  if (!Number.isInteger(count) || count < 0 || count > 16) throw new BackendMisconfiguredError(`HEARTH_MICROVM_PRESPAWN must be a whole number from 0 to 16, got ${text}`);
  return count;
}

function cacheDays(text: string | undefined): number {
  if (text === undefined) return 7;
  const days = Number(text);
  if (!Number.isFinite(days) || days < 0) throw new BackendMisconfiguredError(`HEARTH_MICROVM_CACHE_DAYS must be a number of days (0 or more), got ${text}`);
  return days;
}
