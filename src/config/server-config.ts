// Server configuration with embedded defaults; every value can be overridden by a flag or environment variable.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ServerConfig {
  host: string;
  port: number;
  dataDir: string;
  templatesDir: string;
  supervisorBinary: string;
  cgroupParent: string;
  defaultTimeoutMs: number;
  maxTimeoutMs: number;
  maxJsonBodyBytes: number;
  maxUploadBytes: number;
  defaultCpuCount: number;
  defaultMemoryMiB: number;
  defaultPidsLimit: number;
  /** Disk limit of a sandbox whose template and create name none. */
  defaultDiskMiB: number;
  /** Per-sandbox disk limits through a btrfs image loop-mounted on the sandboxes directory; false runs without them (`--no-sandbox-disk`). */
  sandboxDiskLimits: boolean;
  /** Size of that image when first created (sparse: it takes only what sandboxes write); every sandbox's disk together cannot exceed it. */
  sandboxDiskGiB: number;
  reaperIntervalMs: number;
  /** Pool targets to apply at start (from the config file and --pool flags); others keep their stored value. */
  poolTargets: Record<string, number>;
  /** Pool target for `base` when none was ever set. */
  defaultBasePoolTarget: number;
  /** Public base URL printed for clients; defaults to http://host:port. */
  publicUrl?: string;
}

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export const DEFAULT_DATA_DIR = '/var/lib/hearth';

export function defaultConfig(overrides: Partial<ServerConfig> = {}): ServerConfig {
  const dataDir = overrides.dataDir ?? process.env['HEARTH_DATA_DIR'] ?? DEFAULT_DATA_DIR;
  return {
    host: '127.0.0.1',
    port: 3000,
    dataDir,
    templatesDir: process.env['HEARTH_TEMPLATES_DIR'] ?? path.join(dataDir, 'templates'),
    supervisorBinary: path.join(PROJECT_ROOT, 'native', 'supervisor', 'build', 'hearth-supervisor'),
    cgroupParent: process.env['HEARTH_CGROUP_PARENT'] ?? 'hearth',
    defaultTimeoutMs: 5 * 60 * 1000,
    maxTimeoutMs: 24 * 60 * 60 * 1000,
    maxJsonBodyBytes: 1024 * 1024,
    maxUploadBytes: Number(process.env['HEARTH_MAX_UPLOAD_BYTES'] ?? '') || 1024 * 1024 * 1024,
    defaultCpuCount: 2,
    defaultMemoryMiB: 512,
    defaultPidsLimit: 512,
    defaultDiskMiB: 10 * 1024,
    sandboxDiskLimits: process.env['HEARTH_SANDBOX_DISK'] !== 'off',
    sandboxDiskGiB: Number(process.env['HEARTH_SANDBOX_DISK_GB'] ?? '') || 64,
    reaperIntervalMs: 250,
    poolTargets: {},
    defaultBasePoolTarget: 2,
    ...overrides,
  };
}
