// The manifest beside every gVisor checkpoint image (pause image, fork source, template snapshot): a
// self-describing header (magic, format version, a JSON body, a SHA-256 of the body) naming the backend,
// template and sandbox it was taken from and the size and SHA-256 of each image file. A restore reads it first
// and refuses a corrupt, truncated or foreign checkpoint with SnapshotInvalidError before starting anything.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { SnapshotInvalidError } from '../../errors/snapshot-errors.js';
import { chunkedSha256 } from './checkpoint-hash.js';

export const MANIFEST_FILE = 'hearth-checkpoint.manifest';
export const MANIFEST_MAGIC = Buffer.from('HRTHCKPT', 'ascii');
export const MANIFEST_VERSION = 1;
const HEAD_BYTES = 16;
const DIGEST_BYTES = 32;
const MAX_BODY_BYTES = 64 * 1024;

export type CheckpointKind = 'pause' | 'fork' | 'template';

export interface CheckpointIdentity {
  backend: 'gvisor';
  templateId: string;
  /** The sandbox the checkpoint was taken from. */
  sandboxId: string;
  kind: CheckpointKind;
  /** The runsc platform it ran on: runsc restores an image only on the platform that saved it. Absent in images of older servers. */
  platform?: string;
}

export interface CheckpointFile {
  bytes: number;
  sha256: string;
}

export interface CheckpointManifest extends CheckpointIdentity {
  files: Record<string, CheckpointFile>;
  takenAtMs: number;
}

async function describeFile(filePath: string): Promise<CheckpointFile> {
  const { size } = await fs.stat(filePath);
  return { bytes: size, sha256: await chunkedSha256(filePath, size) };
}

export function encodeManifest(manifest: CheckpointManifest): Buffer {
  const body = Buffer.from(JSON.stringify(manifest), 'utf8');
  const head = Buffer.alloc(HEAD_BYTES);
  MANIFEST_MAGIC.copy(head, 0);
  head.writeUInt32LE(MANIFEST_VERSION, 8);
  head.writeUInt32LE(body.length, 12);
  return Buffer.concat([head, body, createHash('sha256').update(body).digest()]);
}

/** Parses a manifest and checks its own integrity (not yet the files it lists). */
export function decodeManifest(bytes: Buffer, what: string): CheckpointManifest {
  if (bytes.length < HEAD_BYTES || !bytes.subarray(0, 8).equals(MANIFEST_MAGIC)) throw new SnapshotInvalidError(what, 'not a Hearth checkpoint (bad magic)');
  const version = bytes.readUInt32LE(8);
  if (version !== MANIFEST_VERSION) throw new SnapshotInvalidError(what, `format version ${version}, this server reads ${MANIFEST_VERSION}`);
  const length = bytes.readUInt32LE(12);
  if (length > MAX_BODY_BYTES || bytes.length !== HEAD_BYTES + length + DIGEST_BYTES) throw new SnapshotInvalidError(what, 'truncated or oversized manifest');
  const body = bytes.subarray(HEAD_BYTES, HEAD_BYTES + length);
  if (!createHash('sha256').update(body).digest().equals(bytes.subarray(HEAD_BYTES + length))) throw new SnapshotInvalidError(what, 'manifest checksum mismatch');
  try {
    return JSON.parse(body.toString('utf8')) as CheckpointManifest;
  } catch (error) {
    throw new SnapshotInvalidError(what, 'unreadable manifest body', { cause: error });
  }
}

/** Hashes every file runsc wrote into `dir` and writes the manifest beside them (atomically). */
export async function writeManifest(dir: string, identity: CheckpointIdentity): Promise<CheckpointManifest> {
  const files: Record<string, CheckpointFile> = {};
  for (const name of (await fs.readdir(dir)).sort()) {
    if (name === MANIFEST_FILE || name.startsWith('.')) continue;
    files[name] = await describeFile(path.join(dir, name));
  }
  const manifest: CheckpointManifest = { ...identity, files, takenAtMs: Date.now() };
  const temporary = path.join(dir, `.${MANIFEST_FILE}.tmp`);
  await fs.writeFile(temporary, encodeManifest(manifest));
  await fs.rename(temporary, path.join(dir, MANIFEST_FILE));
  return manifest;
}

/**
 * The cheap half of a check, done before anything starts: the manifest's integrity, its backend, template and
 * (when given) source sandbox, and every listed file present with its size; no file may be missing or extra.
 */
export async function readCheckpointManifest(dir: string, expected: { templateId: string; sandboxId?: string }, what: string): Promise<CheckpointManifest> {
  const bytes = await fs.readFile(path.join(dir, MANIFEST_FILE)).catch((error: unknown) => {
    throw new SnapshotInvalidError(what, `no manifest in ${dir}`, { cause: error });
  });
  const manifest = decodeManifest(bytes, what);
  if (manifest.backend !== 'gvisor') throw new SnapshotInvalidError(what, `made by backend ${String(manifest.backend)}, not gvisor`);
  if (manifest.templateId !== expected.templateId) throw new SnapshotInvalidError(what, `made from template ${manifest.templateId}, not ${expected.templateId}`);
  if (expected.sandboxId !== undefined && manifest.sandboxId !== expected.sandboxId) throw new SnapshotInvalidError(what, `taken from sandbox ${manifest.sandboxId}, not ${expected.sandboxId}`);
  const present = (await fs.readdir(dir)).filter((name) => name !== MANIFEST_FILE && !name.startsWith('.'));
  const listed = Object.keys(manifest.files);
  const extra = present.filter((name) => !listed.includes(name));
  if (extra.length > 0) throw new SnapshotInvalidError(what, `unlisted file(s) ${extra.join(', ')}`);
  for (const [name, file] of Object.entries(manifest.files)) {
    const stat = await fs.stat(path.join(dir, name)).catch(() => undefined);
    if (!stat || stat.size !== file.bytes) throw new SnapshotInvalidError(what, `image file ${name} is missing or truncated`);
  }
  return manifest;
}

/** The costly half: every file's SHA-256 against the manifest (all files at once, each on all cores). */
export async function verifyCheckpointFiles(dir: string, manifest: CheckpointManifest, what: string): Promise<void> {
  const digests = await Promise.all(Object.entries(manifest.files).map(async ([name, file]) => [name, (await chunkedSha256(path.join(dir, name), file.bytes)) === file.sha256] as const));
  const mismatch = digests.find(([, same]) => !same);
  if (mismatch) throw new SnapshotInvalidError(what, `image file ${mismatch[0]} checksum mismatch`);
}
