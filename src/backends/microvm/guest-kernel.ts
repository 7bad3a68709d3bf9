// Where the microVM guest kernel is: scripts/build-guest-kernel.sh caches one vmlinux per config under
// <microvmDir>/kernel/<config-hash>/; HEARTH_MICROVM_KERNEL names another. Its identity goes into snapshot headers.
import { promises as fs } from 'node:fs';
import path from 'node:path';

export interface GuestKernel {
  vmlinuxPath: string;
  /** The config hash directory name (or the file's size and mtime for a named kernel): snapshots of another kernel are refused. */
  identity: string;
}

export async function findGuestKernel(microvmDir: string, explicitPath?: string): Promise<GuestKernel | undefined> {
  if (explicitPath) {
    const stat = await fs.stat(explicitPath).catch(() => undefined);
    return stat?.isFile() ? { vmlinuxPath: explicitPath, identity: `file-${stat.size}-${Math.round(stat.mtimeMs)}` } : undefined;
  }
  const kernelDir = path.join(microvmDir, 'kernel');
  let newest: { kernel: GuestKernel; mtimeMs: number } | undefined;
  for (const name of await fs.readdir(kernelDir).catch(() => [] as string[])) {
    if (name.startsWith('.')) continue;
    const vmlinuxPath = path.join(kernelDir, name, 'vmlinux');
    const stat = await fs.stat(vmlinuxPath).catch(() => undefined);
    if (stat?.isFile() && (!newest || stat.mtimeMs > newest.mtimeMs)) newest = { kernel: { vmlinuxPath, identity: name }, mtimeMs: stat.mtimeMs };
  }
  return newest?.kernel;
}
