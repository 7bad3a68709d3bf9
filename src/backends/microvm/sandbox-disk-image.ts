// The per-sandbox writable disk (the guest's overlay upper layer): a sparse copy of a blank ext4 image made
// once per size. A restored sandbox copies its snapshot's disk instead, whose contents match the saved RAM.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { touchImage } from './cache-collector.js';
import { publishOnce } from './root-image.js';
import { runTool } from './run-tool.js';

const MIB = 1024 * 1024;

export class SandboxDisks {
  private readonly blanks = new Map<number, Promise<string>>();

  constructor(private readonly imagesDir: string) {}

  /** A blank ext4 image of `sizeMiB` (no journal: the disk dies with its sandbox). */
  blank(sizeMiB: number): Promise<string> {
    let blank = this.blanks.get(sizeMiB);
    if (!blank) {
      blank = this.makeBlank(sizeMiB);
      this.blanks.set(sizeMiB, blank);
      blank.catch(() => this.blanks.delete(sizeMiB));
    }
    void blank.then(touchImage, () => undefined);
    return blank;
  }

  private async makeBlank(sizeMiB: number): Promise<string> {
    const image = path.join(this.imagesDir, `blank-${sizeMiB}.ext4`);
    if (await fs.stat(image).then(() => true, () => false)) return image;
    await fs.mkdir(this.imagesDir, { recursive: true, mode: 0o700 });
    const partial = `${image}.partial-${process.pid}`;
    const handle = await fs.open(partial, 'w', 0o600);
    await handle.truncate(sizeMiB * MIB);
    await handle.close();
    await runTool('mke2fs', ['-q', '-t', 'ext4', '-F', '-O', '^has_journal', '-E', 'lazy_itable_init=1,root_owner=0:0', '-L', 'hearth-rw', partial], 'making a blank sandbox disk');
    await publishOnce(partial, image);
    return image;
  }
}

/** Copies `source` to `target` keeping holes (the disk is mostly empty). */
export async function copySparse(source: string, target: string): Promise<void> {
  await runTool('cp', ['--sparse=always', source, target], 'copying a sandbox disk');
}
