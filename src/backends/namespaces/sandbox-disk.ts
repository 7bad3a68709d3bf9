// The sandboxes directory as a loop-mounted btrfs filesystem with quota groups, so each sandbox's
// writable layer (a subvolume, created by `hearth-supervisor launch --disk-volume`) gets a byte limit.
// Mounted once per data directory and left mounted across daemon restarts (running sandboxes use it).
// Why btrfs quota groups rather than XFS project quotas (overlay2's `--storage-opt size=`): they need no
// quota support built into the kernel (CONFIG_XFS_QUOTA, CONFIG_QFMT_V2), which kernels such as the one
// Hearth is developed on lack, and a subvolume's limit is set and freed with it in one ioctl each.
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { promisify } from 'node:util';
import { BackendMisconfiguredError } from '../../errors/hearth-error.js';

const run = promisify(execFile);

export interface SandboxDiskOptions {
  sandboxesDir: string;
  /** The sparse image file holding the filesystem; created (and formatted) when absent. */
  imagePath: string;
  /** Size of a newly created image; an existing image keeps its size. */
  sizeGiB: number;
}

/** Decodes the octal escapes (`\040` for a space) /proc/self/mountinfo uses in paths. */
function unescapeMountPath(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_match, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

/** The filesystem type mounted exactly at `dir` (the topmost mount there), or undefined. */
export async function mountedFsType(dir: string): Promise<string | undefined> {
  const target = await fs.realpath(dir).catch(() => dir);
  let found: string | undefined;
  for (const line of (await fs.readFile('/proc/self/mountinfo', 'utf8')).split('\n')) {
    const [before, after] = line.split(' - ');
    const mountPoint = before?.split(' ')[4];
    if (mountPoint === undefined || after === undefined) continue;
    if (unescapeMountPath(mountPoint) === target) found = after.split(' ')[0];
  }
  return found;
}

async function tool(file: string, args: string[], what: string): Promise<void> {
  try {
    await run(file, args, { timeout: 60_000 });
  } catch (error) {
    const { code, stderr } = error as NodeJS.ErrnoException & { stderr?: string };
    if (code === 'ENOENT') {
      throw new BackendMisconfiguredError(`${file} is missing: install btrfs-progs (apt-get install btrfs-progs), or start with --no-sandbox-disk to run without disk limits`, { cause: error });
    }
    throw new BackendMisconfiguredError(
      `cannot ${what}: ${(stderr ?? String(error)).trim()}. Sandbox disk limits need btrfs and loop devices; start with --no-sandbox-disk to run without them`,
      { cause: error },
    );
  }
}

/** Mounts the sandboxes filesystem unless it already is (idempotent), and makes sure quotas are on. */
export async function ensureSandboxDisk(options: SandboxDiskOptions): Promise<{ mounted: boolean }> {
  const { sandboxesDir, imagePath, sizeGiB } = options;
  const current = await mountedFsType(sandboxesDir);
  if (current !== undefined && current !== 'btrfs') {
    throw new BackendMisconfiguredError(`${sandboxesDir} is a ${current} mount, not the btrfs filesystem Hearth expects there: unmount it, or start with --no-sandbox-disk`);
  }
  let mounted = false;
  if (current === undefined) {
    if (!(await fs.readFile('/proc/filesystems', 'utf8')).includes('btrfs')) {
      throw new BackendMisconfiguredError('the kernel has no btrfs, which sandbox disk limits need: load it with `modprobe btrfs`, or start with --no-sandbox-disk');
    }
    const image = await fs.stat(imagePath).catch(() => undefined);
    if (!image) {
      const partial = `${imagePath}.new`;
      const handle = await fs.open(partial, 'w', 0o600);
      await handle.truncate(sizeGiB * 1024 ** 3).finally(() => handle.close());
      await tool('mkfs.btrfs', ['-q', '-K', '-L', 'hearth-sandboxes', partial], `format ${partial}`);
      await fs.rename(partial, imagePath);
    }
    await tool('mount', ['-o', 'loop,noatime', imagePath, sandboxesDir], `loop-mount ${imagePath} on ${sandboxesDir}`);
    mounted = true;
  }
  await tool('btrfs', ['quota', 'enable', sandboxesDir], `enable quotas on ${sandboxesDir}`);
  await fs.chmod(sandboxesDir, 0o700);
  return { mounted };
}
