// Content-addressed build layers: one directory per step key, shared read-only by every template that uses it.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

export interface LayerMeta {
  key: string;
  instruction: string;
  createdAtMs: number;
  sizeBytes: number;
}

export class LayerStore {
  constructor(private readonly root: string) {}

  private dir(key: string): string {
    return path.join(this.root, key);
  }

  /** The layer's filesystem directory if it was built before. */
  async find(key: string): Promise<string | undefined> {
    try {
      await fs.access(path.join(this.dir(key), 'meta.json'));
      return path.join(this.dir(key), 'fs');
    } catch {
      return undefined;
    }
  }

  /** A fresh staging directory (with an empty `fs/`) for building a layer. */
  async stage(): Promise<{ stagingDir: string; fsDir: string }> {
    const stagingDir = path.join(this.root, `.staging-${randomBytes(8).toString('hex')}`);
    await fs.mkdir(path.join(stagingDir, 'fs'), { recursive: true });
    return { stagingDir, fsDir: path.join(stagingDir, 'fs') };
  }

  /** Publishes a staged layer under its key; if a concurrent build published it first, keeps theirs. */
  async commit(stagingDir: string, meta: LayerMeta): Promise<string> {
    await fs.writeFile(path.join(stagingDir, 'meta.json'), JSON.stringify(meta));
    try {
      await fs.rename(stagingDir, this.dir(meta.key));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
      await fs.rm(stagingDir, { recursive: true, force: true });
    }
    return path.join(this.dir(meta.key), 'fs');
  }

  async discard(stagingDir: string): Promise<void> {
    await fs.rm(stagingDir, { recursive: true, force: true });
  }
}
