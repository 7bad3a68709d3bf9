// Resolves user and group names against the /etc/passwd and /etc/group of a layer stack (topmost wins).
import { promises as fs } from 'node:fs';
import path from 'node:path';

async function readTopmost(layers: readonly string[], relative: string): Promise<string> {
  for (const layer of layers) {
    try {
      return await fs.readFile(path.join(layer, relative), 'utf8');
    } catch {
      // not in this layer
    }
  }
  return '';
}

function idFromTable(table: string, name: string): number | undefined {
  for (const line of table.split('\n')) {
    const fields = line.split(':');
    if (fields[0] === name && fields[2] !== undefined) return Number(fields[2]);
  }
  return undefined;
}

/** `user`, `user:group`, `1000`, `1000:1000` to sandbox uid and gid (before the host shift). */
export async function resolveOwner(layers: readonly string[], spec: string): Promise<{ uid: number; gid: number; home: string | undefined } | undefined> {
  const [userPart = '', groupPart] = spec.split(':');
  const passwd = await readTopmost(layers, 'etc/passwd');
  const uid = /^\d+$/.test(userPart) ? Number(userPart) : idFromTable(passwd, userPart);
  if (uid === undefined) return undefined;
  let gid: number | undefined;
  if (groupPart !== undefined) gid = /^\d+$/.test(groupPart) ? Number(groupPart) : idFromTable(await readTopmost(layers, 'etc/group'), groupPart);
  else {
    const entry = passwd.split('\n').find((line) => line.split(':')[2] === String(uid));
    gid = entry ? Number(entry.split(':')[3]) : uid;
  }
  if (gid === undefined) return undefined;
  const home = passwd.split('\n').find((line) => line.split(':')[2] === String(uid))?.split(':')[5];
  return { uid, gid, home };
}
