// A template's root filesystem as one read-only ext4 image for its microVMs, built once and cached by the
// template's layers and the supervisor binary. The layers are merged by a read-only overlay on the host with an
// extra top layer holding /.hearth (the supervisor, the guest's mount points); `mke2fs -d` copies the merged
// tree from inside a user namespace, so the template's shifted owners (host uid 100000) land as uid 0.
// Why ext4 and not erofs: the shared guest kernel config has ext4 and no erofs; why not virtiofs: it needs
// vhost-user (virtiofsd) and shared memory, which this QEMU-under-TCG setup does not offer cheaply.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { InternalError } from '../../errors/hearth-error.js';
import type { TemplateRecord } from '../../store/store.js';
import { SANDBOX_UID_BASE, SANDBOX_UID_COUNT } from '../namespaces/sandbox-identity.js';
import { touchImage } from './cache-collector.js';
import { runTool } from './run-tool.js';

const MIB = 1024 * 1024;
/** Headroom over the merged tree's size (metadata, inode tables). */
const IMAGE_SLACK_MIB = 64;

export interface RootImage {
  path: string;
  /** The file name and build time: a snapshot restores only over the very image it was taken with. */
  identity: string;
}

export class RootImages {
  private readonly building = new Map<string, Promise<string>>();
  private supervisorHash: { stamp: string; sha256: string } | undefined;

  constructor(
    private readonly imagesDir: string,
    private readonly supervisorBinary: string,
  ) {}

  /** The template's root image, building it on first use. */
  async imageFor(template: TemplateRecord): Promise<RootImage> {
    const key = createHash('sha256').update(JSON.stringify(template.layers)).update(await this.supervisorDigest()).digest('hex').slice(0, 20);
    const image = path.join(this.imagesDir, `root-${key}.ext4`);
    if (!(await fs.stat(image).then(() => true, () => false))) {
      let build = this.building.get(key);
      if (!build) {
        build = this.build(template.layers, key, image).finally(() => this.building.delete(key));
        this.building.set(key, build);
      }
      await build;
    }
    const stat = await fs.stat(image);
    await touchImage(image);
    return { path: image, identity: `${path.basename(image)}@${Math.round(stat.mtimeMs)}` };
  }

  /** The supervisor binary's SHA-256, read again only when its size or ctime moves (not on every create). */
  private async supervisorDigest(): Promise<string> {
    const stat = await fs.stat(this.supervisorBinary, { bigint: true });
    const stamp = `${stat.ino}:${stat.size}:${stat.ctimeNs}`;
    if (this.supervisorHash?.stamp !== stamp) {
      this.supervisorHash = { stamp, sha256: createHash('sha256').update(await fs.readFile(this.supervisorBinary)).digest('hex') };
    }
    return this.supervisorHash.sha256;
  }

  private async build(layers: readonly string[], key: string, image: string): Promise<string> {
    await fs.mkdir(this.imagesDir, { recursive: true, mode: 0o700 });
    // per process: two servers sharing the cache may build the same image at once
    const extra = path.join(this.imagesDir, `.extra-${key}-${process.pid}`);
    const merged = path.join(this.imagesDir, `.merged-${key}-${process.pid}`);
    const partial = `${image}.partial-${process.pid}`;
    await fs.rm(extra, { recursive: true, force: true });
    await fs.mkdir(path.join(extra, '.hearth', 'rw'), { recursive: true });
    await fs.mkdir(path.join(extra, '.hearth', 'merged'));
    await fs.copyFile(this.supervisorBinary, path.join(extra, '.hearth', 'hearth-supervisor'));
    await fs.chmod(path.join(extra, '.hearth', 'hearth-supervisor'), 0o755);
    for (const dir of ['', '.hearth', '.hearth/rw', '.hearth/merged', '.hearth/hearth-supervisor']) {
      await fs.chown(path.join(extra, dir), SANDBOX_UID_BASE, SANDBOX_UID_BASE);
    }
    await fs.mkdir(merged, { recursive: true });
    const lowers = [extra, ...layers];
    if (lowers.some((dir) => /[,:\\]/.test(dir))) throw new InternalError(`a template layer path holds ',', ':' or '\\': ${lowers.join(' ')}`);
    await runTool('mount', ['-t', 'overlay', 'overlay', '-o', `ro,lowerdir=${lowers.join(':')}`, merged], 'merging the template layers');
    try {
      const usedMiB = Number.parseInt((await runTool('du', ['-sx', '--block-size=1M', merged], 'sizing the template')).split('\t')[0] ?? '0', 10);
      const sizeMiB = Math.ceil(usedMiB * 1.2) + IMAGE_SLACK_MIB;
      await fs.rm(partial, { force: true });
      const handle = await fs.open(partial, 'w', 0o600);
      await handle.truncate(sizeMiB * MIB);
      await handle.close();
      await fs.chown(partial, SANDBOX_UID_BASE, SANDBOX_UID_BASE);
      await runTool(
        this.supervisorBinary,
        ['userns-exec', '--uid-base', String(SANDBOX_UID_BASE), '--uid-count', String(SANDBOX_UID_COUNT), '--',
          'mke2fs', '-q', '-t', 'ext4', '-F', '-O', '^has_journal', '-E', 'root_owner=0:0', '-L', 'hearth-root', '-d', merged, partial],
        'building the microVM root image',
      );
    } finally {
      await runTool('umount', ['--lazy', merged], 'unmounting the merged template').catch(() => undefined);
      await fs.rm(merged, { recursive: true, force: true }).catch(() => undefined);
      await fs.rm(extra, { recursive: true, force: true }).catch(() => undefined);
    }
    await fs.chown(partial, 0, 0);
    await publishOnce(partial, image);
    return image;
  }
}

/**
 * Moves a finished build into place unless another process published one first (then its copy wins and ours
 * goes): snapshots taken over the first image must never see it replaced by a different build.
 */
export async function publishOnce(partial: string, target: string): Promise<void> {
  try {
    await fs.link(partial, target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    await fs.rm(partial, { force: true });
  }
}
