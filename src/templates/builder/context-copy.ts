// COPY/ADD from the build context into a new layer: glob sources, .dockerignore, ownership, no escapes from the context.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { DockerfileError } from '../dockerfile/dockerfile-parser.js';
import type { DockerIgnore } from './dockerignore.js';

export interface CopyPlan {
  /** Context-relative source path → destination path inside the image (absolute). */
  entries: Array<{ source: string; destination: string }>;
  /** Digest of every copied file's path, mode and content: part of the step's cache key. */
  digest: string;
}

function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.split('').map((c) => (c === '*' ? '[^/]*' : c === '?' ? '[^/]' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('')}$`);
}

async function walk(root: string, relative: string, ignore: DockerIgnore, out: string[]): Promise<void> {
  const entries = await fs.readdir(path.join(root, relative), { withFileTypes: true });
  for (const entry of entries) {
    const child = relative ? `${relative}/${entry.name}` : entry.name;
    if (ignore.ignores(child)) continue;
    out.push(child);
    if (entry.isDirectory()) await walk(root, child, ignore, out);
  }
}

function insideContext(contextDir: string, relative: string, line: number): string {
  const resolved = path.resolve(contextDir, relative);
  if (resolved !== contextDir && !resolved.startsWith(`${contextDir}${path.sep}`)) {
    throw new DockerfileError(line, `COPY source ${relative} is outside the build context`);
  }
  return path.relative(contextDir, resolved).split(path.sep).join('/');
}

/** Works out what a COPY copies where, following Docker's rules for files, directories and trailing slashes. */
export async function planCopy(contextDir: string, sources: string[], destination: string, workdir: string, ignore: DockerIgnore, line: number): Promise<CopyPlan> {
  const all: string[] = [];
  await walk(contextDir, '', ignore, all);
  const absoluteDestination = path.posix.resolve(workdir, destination);
  const destinationIsDir = destination.endsWith('/') || sources.length > 1 || sources.some((source) => /[*?]/.test(source));
  const entries: CopyPlan['entries'] = [];
  for (const source of sources) {
    const relative = insideContext(contextDir, source, line);
    const matches = /[*?]/.test(relative) ? all.filter((candidate) => globToRegExp(relative).test(candidate)) : relative === '' ? [''] : all.includes(relative) ? [relative] : [];
    if (matches.length === 0) throw new DockerfileError(line, `COPY source ${source} was not found in the build context (or is excluded by .dockerignore)`);
    for (const match of matches) {
      const stat = await fs.lstat(path.join(contextDir, match));
      if (stat.isDirectory()) {
        const prefix = match === '' ? '' : `${match}/`;
        for (const inner of all.filter((candidate) => candidate.startsWith(prefix) && candidate !== match)) {
          entries.push({ source: inner, destination: path.posix.join(absoluteDestination, inner.slice(prefix.length)) });
        }
      } else {
        entries.push({ source: match, destination: destinationIsDir ? path.posix.join(absoluteDestination, path.posix.basename(match)) : absoluteDestination });
      }
    }
  }
  const hash = createHash('sha256');
  for (const entry of entries) {
    const full = path.join(contextDir, entry.source);
    const stat = await fs.lstat(full);
    hash.update(`${entry.source}\0${entry.destination}\0${stat.mode}\0`);
    if (stat.isFile()) hash.update(await fs.readFile(full));
    else if (stat.isSymbolicLink()) hash.update(await fs.readlink(full));
  }
  return { entries, digest: hash.digest('hex') };
}

/** Creates missing parent directories of `target` inside the layer, owned by root of the sandbox range. */
async function ensureParents(layerRoot: string, target: string, uid: number, gid: number): Promise<void> {
  const parts = path.posix.dirname(target).split('/').filter(Boolean);
  let current = layerRoot;
  for (const part of parts) {
    current = path.join(current, part);
    try {
      await fs.mkdir(current, { mode: 0o755 });
      await fs.lchown(current, uid, gid);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}

/** Writes the planned files into the layer's directory with the given host uid/gid. */
export async function applyCopy(contextDir: string, plan: CopyPlan, layerRoot: string, hostUid: number, hostGid: number, parentOwner: { uid: number; gid: number }, mode?: number): Promise<void> {
  for (const entry of plan.entries) {
    const from = path.join(contextDir, entry.source);
    const to = path.join(layerRoot, entry.destination);
    await ensureParents(layerRoot, entry.destination, parentOwner.uid, parentOwner.gid);
    const stat = await fs.lstat(from);
    if (stat.isDirectory()) {
      await fs.mkdir(to, { recursive: true, mode: stat.mode & 0o7777 });
    } else if (stat.isSymbolicLink()) {
      await fs.rm(to, { force: true });
      await fs.symlink(await fs.readlink(from), to);
    } else if (stat.isFile()) {
      await fs.copyFile(from, to);
    } else {
      continue;
    }
    await fs.lchown(to, hostUid, hostGid);
    // After chown, which would clear set-user-ID bits set before it.
    if (stat.isFile()) await fs.chmod(to, mode ?? stat.mode & 0o7777);
  }
}
