// Builds the `base` template: a Debian root filesystem from mmdebstrap with user `user` (uid 1000), cached on disk.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { InternalError } from '../errors/hearth-error.js';
import { SANDBOX_UID_BASE } from '../backends/namespaces/sandbox-identity.js';
import { shiftOwnership } from './ownership-shift.js';
import { directoryBytes } from './directory-bytes.js';

export const BASE_TEMPLATE_ID = 'base';

const BASE_SUITE = 'bookworm';
const BASE_PACKAGES = [
  'bash', 'coreutils', 'procps', 'python3', 'nodejs', 'git', 'curl', 'ca-certificates',
  'sudo', 'iproute2', 'less', 'findutils', 'grep', 'sed', 'tar', 'gzip', 'xz-utils', 'file',
];
const CUSTOMIZE_HOOKS = [
  'chroot "$1" useradd --create-home --uid 1000 --shell /bin/bash user',
  'echo "user ALL=(ALL:ALL) NOPASSWD: ALL" > "$1/etc/sudoers.d/user" && chmod 0440 "$1/etc/sudoers.d/user"',
  'rm -f "$1/etc/hostname" "$1/etc/resolv.conf"',
  // Login shells (every E2B command runs `bash -l -c`) otherwise fork `id -u` on each start.
  'sed -i \'s/if \\[ "$(id -u)" -eq 0 \\]; then/if [ "${EUID:-$(id -u)}" -eq 0 ]; then/\' "$1/etc/profile"',
];

export interface BaseTemplateManifest {
  recipeHash: string;
  suite: string;
  packages: string[];
  builtAtMs: number;
  buildMs: number;
  sizeBytes: number;
}

function recipeHash(): string {
  return createHash('sha256')
    .update(JSON.stringify({ BASE_SUITE, BASE_PACKAGES, CUSTOMIZE_HOOKS, SANDBOX_UID_BASE, version: 2 }))
    .digest('hex')
    .slice(0, 16);
}

/**
 * Each recipe version gets its own directory, so rebuilding never pulls the lower layer out from
 * under sandboxes still running on the previous version.
 */
export function baseTemplatePaths(templatesDir: string): { dir: string; rootfs: string; manifest: string } {
  const dir = path.join(templatesDir, BASE_TEMPLATE_ID, recipeHash());
  return { dir, rootfs: path.join(dir, 'rootfs'), manifest: path.join(dir, 'manifest.json') };
}

/** The manifest of a built, current base template, or undefined when it must be (re)built. */
export async function readBaseTemplate(templatesDir: string): Promise<BaseTemplateManifest | undefined> {
  const paths = baseTemplatePaths(templatesDir);
  try {
    const manifest = JSON.parse(await fs.readFile(paths.manifest, 'utf8')) as BaseTemplateManifest;
    if (manifest.recipeHash !== recipeHash()) return undefined;
    await fs.access(path.join(paths.rootfs, 'bin', 'bash'));
    return manifest;
  } catch {
    return undefined;
  }
}

function run(command: string, args: string[], onLine: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const forward = (chunk: Buffer): void => {
      for (const line of chunk.toString().split('\n')) if (line.trim()) onLine(line);
    };
    child.stdout.on('data', forward);
    child.stderr.on('data', forward);
    child.once('error', (error) => reject(new InternalError(`cannot run ${command}: ${error.message} (install it: apt-get install mmdebstrap)`, { cause: error })));
    child.once('close', (code) => (code === 0 ? resolve() : reject(new InternalError(`${command} exited with ${code}`))));
  });
}

/** Builds the base template unless a current one exists; reports progress line by line. */
export async function ensureBaseTemplate(templatesDir: string, onProgress: (line: string) => void): Promise<BaseTemplateManifest> {
  const existing = await readBaseTemplate(templatesDir);
  if (existing) return existing;
  const paths = baseTemplatePaths(templatesDir);
  onProgress(`building base template (Debian ${BASE_SUITE} via mmdebstrap, about a minute)...`);
  const manifest = await buildDebianRootfs(paths, BASE_SUITE, BASE_PACKAGES, recipeHash(), onProgress);
  onProgress(`base template ready in ${(manifest.buildMs / 1000).toFixed(1)} s (${(manifest.sizeBytes / 1048576).toFixed(0)} MiB)`);
  return manifest;
}

/** mmdebstrap a suite with packages and user `user`, shift ownership into the sandbox range, write the manifest. */
async function buildDebianRootfs(
  paths: { dir: string; rootfs: string; manifest: string },
  suite: string,
  packages: readonly string[],
  hash: string,
  onProgress: (line: string) => void,
): Promise<BaseTemplateManifest> {
  const staging = `${paths.rootfs}.staging-${process.pid}`;
  await fs.mkdir(paths.dir, { recursive: true });
  await fs.rm(staging, { recursive: true, force: true });
  const startedAtMs = Date.now();
  const mirror = process.env['HEARTH_DEBIAN_MIRROR'] ?? 'http://deb.debian.org/debian';
  await run(
    'mmdebstrap',
    ['--mode=root', '--variant=minbase', `--include=${packages.join(',')}`, ...CUSTOMIZE_HOOKS.map((hook) => `--customize-hook=${hook}`), suite, staging, mirror],
    (line) => onProgress(`  ${line}`),
  );
  onProgress('shifting file ownership into the sandbox uid range...');
  shiftOwnership(staging, SANDBOX_UID_BASE);
  try {
    await fs.rename(staging, paths.rootfs);
  } catch (error) {
    // Another build of the same recipe finished first: keep its copy.
    await fs.rm(staging, { recursive: true, force: true });
    if ((error as NodeJS.ErrnoException).code !== 'ENOTEMPTY' && (error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const manifest: BaseTemplateManifest = {
    recipeHash: hash,
    suite,
    packages: [...packages],
    builtAtMs: Date.now(),
    buildMs: Date.now() - startedAtMs,
    sizeBytes: await directoryBytes(paths.rootfs),
  };
  await fs.writeFile(paths.manifest, JSON.stringify(manifest, null, 2));
  return manifest;
}

/** A Debian image for Dockerfile FROM lines, built once per suite and package set and cached. */
export async function ensureDebianImage(templatesDir: string, name: string, suite: string, packages: readonly string[], onProgress: (line: string) => void): Promise<string> {
  const hash = createHash('sha256').update(JSON.stringify({ suite, packages, CUSTOMIZE_HOOKS, SANDBOX_UID_BASE, version: 2 })).digest('hex').slice(0, 16);
  const dir = path.join(templatesDir, 'images', name.replace(/[^a-zA-Z0-9._-]/g, '_'), hash);
  const paths = { dir, rootfs: path.join(dir, 'rootfs'), manifest: path.join(dir, 'manifest.json') };
  try {
    await fs.access(paths.manifest);
    return paths.rootfs;
  } catch {
    // not built yet
  }
  onProgress(`building image ${name} (Debian ${suite} via mmdebstrap, cached after this build)...`);
  await buildDebianRootfs(paths, suite, packages, hash, onProgress);
  return paths.rootfs;
}
