// Server configuration with embedded defaults; every value can be overridden by a flag or environment variable.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseBackendKind, type BackendKind } from '../backends/backend-kinds.js';

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
  /** `bridged`: each sandbox gets an address on a host bridge, DNS, egress policy and a metadata service; `none`: loopback only. */
  network: 'bridged' | 'none';
  /** Host bridge name (also names the sandboxes' namespaces and veths) and the sandboxes' subnet. */
  networkBridge: string;
  sandboxSubnet: string;
  /** Names the sandbox resolver answers itself: `name=ip[,ip]` separated by spaces. */
  dnsHosts: string;
  /** The key that seals stored secrets; a separate file, never inside the database. */
  secretsKeyFile: string;
  /** Extra CAs (PEM file) the egress proxy trusts for upstream servers of HTTPS hosts with header rules. */
  egressUpstreamCaFile: string | undefined;
  /** The backend sandboxes run on unless their template or create names another (`--backend`, HEARTH_BACKEND). */
  backend: BackendKind;
  /** runsc platform for the gvisor backend (HEARTH_GVISOR_PLATFORM): auto (measured, the default), systrap, ptrace or kvm. */
  gvisorPlatform: string;
  reaperIntervalMs: number;
  /** Pool targets to apply at start (from the config file and --pool flags); others keep their stored value. */
  poolTargets: Record<string, number>;
  /** Pool target for `base` when none was ever set. */
  defaultBasePoolTarget: number;
  /** What `sbx.getHost(port)` appends to `<port>-<sandboxId>.`: a wildcard DNS name pointing at this server; defaults to localhost:<port>. */
  sandboxDomain?: string;
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
    network: process.env['HEARTH_NETWORK'] === 'none' ? 'none' : 'bridged',
    networkBridge: process.env['HEARTH_BRIDGE'] ?? 'hearth0',
    sandboxSubnet: process.env['HEARTH_SANDBOX_SUBNET'] ?? '10.77.0.0/16',
    dnsHosts: process.env['HEARTH_DNS_HOSTS'] ?? '',
    secretsKeyFile: process.env['HEARTH_SECRETS_KEY_FILE'] ?? path.join(dataDir, 'keys', 'secrets.key'),
    egressUpstreamCaFile: process.env['HEARTH_EGRESS_UPSTREAM_CA_FILE'],
    ...(process.env['HEARTH_SANDBOX_DOMAIN'] ? { sandboxDomain: process.env['HEARTH_SANDBOX_DOMAIN'] } : {}),
    backend: parseBackendKind(process.env['HEARTH_BACKEND'] ?? 'namespaces', 'HEARTH_BACKEND'),
    gvisorPlatform: process.env['HEARTH_GVISOR_PLATFORM'] ?? 'auto',
    reaperIntervalMs: 250,
    poolTargets: {},
    defaultBasePoolTarget: 2,
    ...overrides,
  };
}
