// Start-up checks for the gVisor backend: each failure names exactly what to install or change.
import { spawnSync } from 'node:child_process';
import { promises as fs, constants as fsConstants } from 'node:fs';
import { BackendMisconfiguredError } from '../../errors/hearth-error.js';
import { availableControllers } from '../namespaces/cgroup-v1.js';
import type { RunscPlatform } from './platform-choice.js';

export const RUNSC_INSTALL_HINT =
  'install runsc from Debian trixie: add a trixie entry to /etc/apt/sources.list.d with a pin for runsc only, then `apt-get install -t trixie runsc` (scripts/setup.sh does this)';

/** The runsc binary on PATH, or undefined. */
export function findRunsc(): string | undefined {
  const result = spawnSync('sh', ['-c', 'command -v runsc'], { encoding: 'utf8' });
  const found = result.stdout.trim();
  return result.status === 0 && found ? found : undefined;
}

/** The date-based version runsc prints (e.g. 20240729), or undefined when it cannot tell. */
export function runscVersion(binary: string): number | undefined {
  const result = spawnSync(binary, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  const match = /(\d{8})/.exec(result.stdout ?? '');
  return match?.[1] ? Number(match[1]) : undefined;
}

/** systrap appeared in runsc release 20230417; older builds (bookworm's 20221219) only have ptrace and kvm. */
const SYSTRAP_SINCE = 20230417;

/** The platforms `auto` may choose among with this runsc. */
export function probedPlatforms(version: number): RunscPlatform[] {
  return version >= SYSTRAP_SINCE ? ['systrap', 'ptrace'] : ['ptrace'];
}

/** Checks what every gVisor sandbox needs; returns runsc's version. */
export async function checkGvisorHost(binary: string | undefined, supervisorBinary: string, platform: string): Promise<number> {
  if (process.getuid?.() !== 0) throw new BackendMisconfiguredError('the gvisor backend needs root (it mounts overlayfs and runs runsc): run `hearth serve` as root');
  if (!binary) throw new BackendMisconfiguredError(`the gvisor backend needs runsc, which is not on PATH: ${RUNSC_INSTALL_HINT}`);
  const version = runscVersion(binary);
  if (version === undefined) throw new BackendMisconfiguredError(`${binary} --version gave no version: reinstall it (${RUNSC_INSTALL_HINT})`);
  if (platform === 'systrap' && version < SYSTRAP_SINCE) {
    throw new BackendMisconfiguredError(`runsc ${version} has no systrap platform (needs ${SYSTRAP_SINCE} or later): ${RUNSC_INSTALL_HINT}, or set HEARTH_GVISOR_PLATFORM=ptrace`);
  }
  try {
    await fs.access(supervisorBinary, fsConstants.X_OK);
  } catch (error) {
    throw new BackendMisconfiguredError(`supervisor binary ${supervisorBinary} is missing: build it with \`make -C native/supervisor\``, { cause: error });
  }
  if (!(await fs.readFile('/proc/filesystems', 'utf8')).includes('overlay')) {
    throw new BackendMisconfiguredError('the kernel has no overlayfs: load it with `modprobe overlay`');
  }
  const controllers = await availableControllers();
  for (const needed of ['memory', 'pids', 'cpu', 'freezer'] as const) {
    if (!controllers.includes(needed)) throw new BackendMisconfiguredError(`cgroup v1 controller "${needed}" is not mounted under /sys/fs/cgroup: gVisor sandbox limits cannot be enforced`);
  }
  return version;
}
