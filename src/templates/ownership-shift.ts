// Shifts every file's owner in a root filesystem by a fixed offset so the sandbox's user namespace sees uid 0..N.
import { chmodSync, lchownSync, lstatSync, readdirSync } from 'node:fs';
import path from 'node:path';

/** Returns the number of entries shifted. Already-shifted entries (uid >= offset) are left as they are. */
export function shiftOwnership(root: string, offset: number): number {
  let count = 0;
  const visit = (entry: string): void => {
    const stat = lstatSync(entry);
    if (stat.uid < offset || stat.gid < offset) {
      lchownSync(entry, stat.uid < offset ? stat.uid + offset : stat.uid, stat.gid < offset ? stat.gid + offset : stat.gid);
      // chown clears set-user-ID and set-group-ID bits (even for root): put them back, or sudo stops working.
      if (stat.isFile() && stat.mode & 0o6000) chmodSync(entry, stat.mode & 0o7777);
      count += 1;
    }
    if (stat.isDirectory()) {
      for (const name of readdirSync(entry)) visit(path.join(entry, name));
    }
  };
  visit(root);
  return count;
}
