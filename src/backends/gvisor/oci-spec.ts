// The OCI runtime spec (config.json) Hearth writes for a gVisor sandbox: the supervisor as PID 1 on the overlay root.
import type { SandboxSpec } from '../backend.js';
import { SANDBOX_UID_BASE, SANDBOX_UID_COUNT } from '../namespaces/sandbox-identity.js';
import { TOOLS_MOUNT_PATH } from '../../core/tool-definitions.js';

/** Where the supervisor binary and its socket directory appear inside the sandbox. */
export const SUPERVISOR_PATH_IN_SANDBOX = '/run/hearth/hearth-supervisor';
export const SOCKET_DIR_IN_SANDBOX = '/run/hearth/socket';
export const SOCKET_NAME = 'supervisor.sock';

/**
 * The supervisor holds every capability of gVisor's kernel (as it does inside its user namespace under the
 * namespaces backend) and drops the dangerous ones from each process it spawns. These are gVisor's, never the host's.
 */
const SUPERVISOR_CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN',
  'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_ADMIN', 'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_SETFCAP',
];

export interface BundlePaths {
  rootfs: string;
  supervisorBinary: string;
  socketDir: string;
  toolsDir: string;
  cgroupsPath: string;
}

interface OciMount {
  destination: string;
  type: string;
  source: string;
  options?: string[];
}

function bind(source: string, destination: string, readOnly: boolean): OciMount {
  return { destination, type: 'bind', source, options: ['rbind', readOnly ? 'ro' : 'rw', 'nosuid', 'nodev'] };
}

export function ociSpec(spec: SandboxSpec, paths: BundlePaths): Record<string, unknown> {
  const mounts: OciMount[] = [
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'mode=755'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'nodev', 'mode=1777'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    bind(paths.supervisorBinary, SUPERVISOR_PATH_IN_SANDBOX, true),
    bind(paths.socketDir, SOCKET_DIR_IN_SANDBOX, false),
    ...(spec.toolsMount ? [bind(paths.toolsDir, TOOLS_MOUNT_PATH, true)] : []),
  ];
  const idMapping = [{ containerID: 0, hostID: SANDBOX_UID_BASE, size: SANDBOX_UID_COUNT }];
  const networkNamespace = spec.network === 'host' ? [] : [spec.netnsPath ? { type: 'network', path: spec.netnsPath } : { type: 'network' }];
  return {
    ociVersion: '1.0.0',
    process: {
      user: { uid: 0, gid: 0 },
      args: [
        SUPERVISOR_PATH_IN_SANDBOX, 'serve', '--listen', `${SOCKET_DIR_IN_SANDBOX}/${SOCKET_NAME}`,
        ...Object.entries(spec.baseEnv).flatMap(([key, value]) => ['--env', `${key}=${value}`]),
      ],
      // The supervisor takes its base environment from --env; its own stays empty so /proc/1/environ shows nothing.
      env: [],
      cwd: '/',
      capabilities: { bounding: SUPERVISOR_CAPABILITIES, effective: SUPERVISOR_CAPABILITIES, permitted: SUPERVISOR_CAPABILITIES },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1048576, soft: 1048576 }],
      noNewPrivileges: false,
    },
    root: { path: paths.rootfs, readonly: false },
    hostname: spec.hostname,
    mounts,
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'user' }, ...networkNamespace],
      uidMappings: idMapping,
      gidMappings: idMapping,
      cgroupsPath: paths.cgroupsPath,
      resources: {
        memory: { limit: spec.memoryMiB * 1024 * 1024, swap: spec.memoryMiB * 1024 * 1024 },
        // Bounds the host processes and threads of the sentry, gofer and platform stubs (systrap or ptrace, about
        // one per sandbox process). runsc 20240729 enforces no pids limit inside, so reaching this kills the
        // sandbox rather than failing a fork; it still stops a fork bomb from reaching the host.
        pids: { limit: spec.pidsLimit },
        cpu: { quota: Math.round(spec.cpuCount * 100_000), period: 100_000, shares: Math.round(spec.cpuCount * 1024) },
      },
    },
  };
}
