// Writes a sandbox's tool files on the host side of its read-only bind mount: each file replaced atomically, stale ones removed.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';

export async function writeToolIndex(toolsDir: string, files: Record<string, string>): Promise<void> {
  const wanted = new Set(Object.keys(files));
  // index.json goes last, so a reader that finds a tool in the index also finds its file.
  const order = [...wanted].sort((a, b) => (a === 'index.json' ? 1 : b === 'index.json' ? -1 : a.localeCompare(b)));
  for (const name of order) {
    const temporary = path.join(toolsDir, `.${name}.${randomBytes(4).toString('hex')}`);
    await fs.writeFile(temporary, files[name] ?? '', { mode: 0o644 });
    await fs.rename(temporary, path.join(toolsDir, name));
  }
  for (const name of await fs.readdir(toolsDir)) {
    if (!wanted.has(name) && !name.startsWith('.')) await fs.rm(path.join(toolsDir, name), { force: true });
  }
}
