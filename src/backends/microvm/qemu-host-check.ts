// Start-up checks for the microVM backend: QEMU and a guest kernel must be there (each failure says what to
// install); the accelerator is probed, because a /dev/kvm that exists may still not run a stock guest (PVM).
import { spawnSync } from 'node:child_process';
import { promises as fs, constants as fsConstants } from 'node:fs';
import { BackendMisconfiguredError } from '../../errors/hearth-error.js';
import { availableControllers } from '../namespaces/cgroup-v1.js';

export const QEMU_INSTALL_HINT = 'install QEMU with `apt-get install qemu-system-x86` (scripts/setup.sh does this)';
export const KERNEL_INSTALL_HINT =
  'build the guest kernel with `scripts/build-guest-kernel.sh` (needs `apt-get install linux-source-6.1 bc bison flex libelf-dev libssl-dev`; about 5 minutes, cached)';

export type Accelerator = 'kvm' | 'tcg';

/** qemu-system-x86_64 on PATH, or undefined. */
export function findQemu(): string | undefined {
  const result = spawnSync('sh', ['-c', 'command -v qemu-system-x86_64'], { encoding: 'utf8' });
  const found = result.stdout.trim();
  return result.status === 0 && found ? found : undefined;
}

export async function checkMicrovmHost(qemuBinary: string | undefined, vmlinuxPath: string | undefined, supervisorBinary: string): Promise<void> {
  if (process.getuid?.() !== 0) throw new BackendMisconfiguredError('the microvm backend needs root (it builds disk images and sets up cgroups): run `hearth serve` as root');
  if (!qemuBinary) throw new BackendMisconfiguredError(`the microvm backend needs qemu-system-x86_64, which is not on PATH: ${QEMU_INSTALL_HINT}`);
  if (!vmlinuxPath) throw new BackendMisconfiguredError(`the microvm backend has no guest kernel: ${KERNEL_INSTALL_HINT}`);
  const help = spawnSync(qemuBinary, ['-machine', 'help'], { encoding: 'utf8', timeout: 10_000 });
  if (!/^microvm\s/m.test(help.stdout ?? '')) throw new BackendMisconfiguredError(`${qemuBinary} has no microvm machine type: ${QEMU_INSTALL_HINT} (7.2 or later)`);
  try {
    await fs.access(supervisorBinary, fsConstants.X_OK);
  } catch (error) {
    throw new BackendMisconfiguredError(`supervisor binary ${supervisorBinary} is missing: build it with \`make -C native/supervisor\``, { cause: error });
  }
  for (const tool of ['mke2fs']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) throw new BackendMisconfiguredError(`the microvm backend needs ${tool}: apt-get install e2fsprogs`);
  }
  const controllers = await availableControllers();
  for (const needed of ['memory', 'pids', 'cpu'] as const) {
    if (!controllers.includes(needed)) throw new BackendMisconfiguredError(`cgroup v1 controller "${needed}" is not mounted under /sys/fs/cgroup: microVM limits cannot be enforced`);
  }
}

/** The tiny boot that tells whether KVM can run our guest: the kernel must reach its init (which fails fast: no root disk). */
export function probeKvm(qemuBinary: string, vmlinuxPath: string, timeoutMs: number): boolean {
  const access = spawnSync('sh', ['-c', 'test -r /dev/kvm -a -w /dev/kvm']);
  if (access.status !== 0) return false;
  const result = spawnSync(
    qemuBinary,
    ['-M', 'microvm,acpi=off,x-option-roms=off', '-accel', 'kvm', '-cpu', 'host', '-m', '64', '-nodefaults', '-no-user-config', '-nographic',
      '-serial', 'stdio', '-no-reboot', '-kernel', vmlinuxPath, '-append', 'console=ttyS0 panic=-1 root=/dev/nonexistent'],
    { encoding: 'utf8', timeout: timeoutMs },
  );
  // Reaching "VFS: Unable to mount root" means the kernel booted to the point of mounting a root: KVM works.
  return /Unable to mount root|VFS:|Kernel panic/.test(result.stdout ?? '');
}
