// Garbage collection of the shared microVM cache (root images, blank disks, template snapshots): every rebuilt
// template, supervisor or kernel leaves its old entries behind. An entry goes once it has not been used for
// `maxAgeMs` and no guest needs it: a running QEMU (of any server sharing the cache) naming it on its command
// line, or a paused guest of this server whose image was taken over it. Builds interrupted by a crash (their
// process is gone) go at once. Uses are stamped by touchImage / touchSnapshot; a stamp never changes what a
// snapshot's checks compare (image mtimes, snapshot file ctimes).
import { promises as fs } from 'node:fs';
import path from 'node:path';

export interface CacheCollection {
  removed: string[];
  freedBytes: number;
}

const LAST_USED_FILE = 'last-used';

/** Beside the images: one empty stamp file per image, touched on use (an image's own mtime is part of snapshots' identity). */
const USED_STAMPS_DIR = '.used';

/** Marks a root image or blank disk as used now. */
export async function touchImage(imagePath: string): Promise<void> {
  const stamps = path.join(path.dirname(imagePath), USED_STAMPS_DIR);
  await touch(path.join(stamps, path.basename(imagePath))).catch(async () => {
    await fs.mkdir(stamps, { recursive: true, mode: 0o700 });
    await touch(path.join(stamps, path.basename(imagePath)));
  }).catch(() => undefined);
}

/** Marks a template snapshot as used now, in a file of its own (the snapshot's files keep their ctimes). */
export async function touchSnapshot(snapshotDir: string): Promise<void> {
  await touch(path.join(snapshotDir, LAST_USED_FILE)).catch(() => undefined);
}

async function touch(file: string): Promise<void> {
  const now = new Date();
  await fs.utimes(file, now, now).catch(() => fs.writeFile(file, ''));
}

export async function collectMicrovmCache(options: { microvmDir: string; sandboxesDir: string; maxAgeMs: number; nowMs?: number }): Promise<CacheCollection> {
  const cutoffMs = (options.nowMs ?? Date.now()) - options.maxAgeMs;
  const inUse = new Set([...(await imagesOfRunningGuests()), ...(await imagesOfPausedGuests(options.sandboxesDir))]);
  const collection: CacheCollection = { removed: [], freedBytes: 0 };
  const imagesDir = path.join(options.microvmDir, 'images');
  for (const name of await fs.readdir(imagesDir).catch(() => [] as string[])) {
    const entry = path.join(imagesDir, name);
    if (name.startsWith('.merged-') || name === USED_STAMPS_DIR) continue; // a mount point while a build runs; its build removes it
    const stamp = path.join(imagesDir, USED_STAMPS_DIR, name);
    const stale = abandonedBuild(name) || (/^(root|blank)-.*\.ext4$/.test(name) && !inUse.has(name) && (await lastUsedMs(stamp, entry)) < cutoffMs);
    if (!stale) continue;
    await remove(entry, collection);
    await fs.rm(stamp, { force: true });
  }
  const snapshotsDir = path.join(options.microvmDir, 'snapshots');
  for (const name of await fs.readdir(snapshotsDir).catch(() => [] as string[])) {
    const entry = path.join(snapshotsDir, name);
    if (abandonedBuild(name) || (!name.includes('.partial-') && (await lastUsedMs(path.join(entry, LAST_USED_FILE), path.join(entry, 'header'))) < cutoffMs)) {
      await remove(entry, collection);
    }
  }
  return collection;
}

/** `<name>.partial-<pid>` or `.extra-<key>-<pid>` whose process is gone. */
function abandonedBuild(name: string): boolean {
  const pid = /(?:\.partial-|^\.extra-[0-9a-f]+-)(\d+)$/.exec(name)?.[1];
  if (pid === undefined) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

async function lastUsedMs(...candidates: string[]): Promise<number> {
  for (const file of candidates) {
    const stat = await fs.stat(file).catch(() => undefined);
    if (stat) return Math.max(stat.atimeMs, stat.mtimeMs);
  }
  return 0;
}

async function remove(entry: string, collection: CacheCollection): Promise<void> {
  const bytes = await allocatedBytes(entry);
  await fs.rm(entry, { recursive: true, force: true }).catch(() => undefined);
  collection.removed.push(entry);
  collection.freedBytes += bytes;
}

async function allocatedBytes(entry: string): Promise<number> {
  const stat = await fs.lstat(entry).catch(() => undefined);
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.blocks * 512;
  let total = 0;
  for (const name of await fs.readdir(entry).catch(() => [] as string[])) total += await allocatedBytes(path.join(entry, name));
  return total;
}

/** Image file names on the command lines of every QEMU on the machine (another server's guests included). */
async function imagesOfRunningGuests(): Promise<string[]> {
  const names: string[] = [];
  for (const pid of await fs.readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid)) continue;
    const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (!cmdline.includes('qemu-system')) continue;
    for (const match of cmdline.matchAll(/file=[^\0,]*\/((?:root|blank)-[^\0,/]+\.ext4)/g)) if (match[1]) names.push(match[1]);
  }
  return names;
}

/** Root images the paused guests of this server were running over (named in their images' headers). */
async function imagesOfPausedGuests(sandboxesDir: string): Promise<string[]> {
  const names: string[] = [];
  for (const sandbox of await fs.readdir(sandboxesDir).catch(() => [] as string[])) {
    const header = await fs.readFile(path.join(sandboxesDir, sandbox, 'paused', 'header')).catch(() => undefined);
    const name = header ? /"rootImage":"([^"@]+)@/.exec(header.toString('latin1'))?.[1] : undefined;
    if (name) names.push(name);
  }
  return names;
}
