// Total size of the regular files under a directory (0 when it does not exist), for template and layer sizes.
import { promises as fs } from 'node:fs';
import path from 'node:path';

export async function directoryBytes(dir: string): Promise<number> {
  let total = 0;
  let entries;
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) total += await directoryBytes(full);
    else if (entry.isFile()) total += (await fs.lstat(full)).size;
  }
  return total;
}
