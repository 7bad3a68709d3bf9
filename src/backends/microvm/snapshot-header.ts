// The self-describing header of a microVM memory snapshot (like Firecracker's snapshot format): magic, version,
// a JSON body naming the backend, kernel, template and machine shape, and the sizes and SHA-256 of the files it
// covers, then a SHA-256 of the body. A corrupt or foreign header is refused with SnapshotInvalidError (422
// `snapshot_invalid`, as for every backend). Template snapshots hold RAM, device state and disk; a paused or forked
// sandbox's image holds its whole migration stream (RAM included) and disk.
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import { SnapshotInvalidError as CheckedSnapshotError } from '../../errors/snapshot-errors.js';
import type { MachineShape } from './qemu-command.js';

export const SNAPSHOT_MAGIC = Buffer.from('HRTHSNAP', 'ascii');
export const SNAPSHOT_VERSION = 2;
const MAX_BODY_BYTES = 64 * 1024;

/** A snapshot file that is corrupt, of another version, or made for another backend, kernel or template. */
export class SnapshotInvalidError extends CheckedSnapshotError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('microVM snapshot', message, options);
  }
}

/** What the image is: a template's shared snapshot, a paused sandbox's image, or a running sandbox's fork source. */
export type SnapshotKind = 'template' | 'pause' | 'fork';

export interface SnapshotFile {
  bytes: number;
  sha256: string;
}

export interface SnapshotIdentity {
  backend: 'microvm';
  kernel: string;
  template: string;
  /** The root image file the guest's page cache and ext4 state refer to (name and build time): restoring over another build corrupts. */
  rootImage: string;
  /** Size of the writable disk the snapshot's filesystem was made for. */
  diskMiB: number;
  /** Whether the guest has a virtio-net device, and the device layout (the device model must match). */
  network: boolean;
  devices: string;
  /** Extra kernel arguments the guest booted with (absent: none). */
  bootArgs?: string;
  shape: MachineShape;
}

export interface SnapshotHeader extends SnapshotIdentity {
  /** Absent in template snapshots written before kinds existed. */
  kind?: SnapshotKind;
  /** The sandbox a pause or fork image was taken from. */
  sourceSandboxId?: string;
  files: Record<string, SnapshotFile>;
  takenAtMs: number;
}

export function encodeHeader(header: SnapshotHeader): Buffer {
  const body = Buffer.from(JSON.stringify(header), 'utf8');
  const head = Buffer.alloc(16);
  SNAPSHOT_MAGIC.copy(head, 0);
  head.writeUInt32LE(SNAPSHOT_VERSION, 8);
  head.writeUInt32LE(body.length, 12);
  return Buffer.concat([head, body, createHash('sha256').update(body).digest()]);
}

/** Parses and checks a header against what the caller expects to restore. */
export function decodeHeader(bytes: Buffer, expected: SnapshotIdentity, options: { ignoreShape?: boolean } = {}): SnapshotHeader {
  if (bytes.length < 16 || !bytes.subarray(0, 8).equals(SNAPSHOT_MAGIC)) throw new SnapshotInvalidError('not a Hearth snapshot (bad magic)');
  const version = bytes.readUInt32LE(8);
  if (version !== SNAPSHOT_VERSION) throw new SnapshotInvalidError(`version ${version}, this server reads ${SNAPSHOT_VERSION}`);
  const length = bytes.readUInt32LE(12);
  if (length > MAX_BODY_BYTES || bytes.length !== 16 + length + 32) throw new SnapshotInvalidError('truncated or oversized header');
  const body = bytes.subarray(16, 16 + length);
  if (!createHash('sha256').update(body).digest().equals(bytes.subarray(16 + length))) throw new SnapshotInvalidError('header checksum mismatch');
  let header: SnapshotHeader;
  try {
    header = JSON.parse(body.toString('utf8')) as SnapshotHeader;
  } catch (error) {
    throw new SnapshotInvalidError('unreadable header body', { cause: error });
  }
  if (header.backend !== expected.backend) throw new SnapshotInvalidError(`made by backend ${String(header.backend)}`);
  if (header.kernel !== expected.kernel) throw new SnapshotInvalidError(`made for guest kernel ${header.kernel}, this server boots ${expected.kernel}`);
  if (header.template !== expected.template) throw new SnapshotInvalidError(`made for template ${header.template}, not ${expected.template}`);
  if (header.rootImage !== expected.rootImage) throw new SnapshotInvalidError(`made over root image ${String(header.rootImage)}, not ${expected.rootImage}`);
  if ((header.bootArgs ?? '') !== (expected.bootArgs ?? '')) throw new SnapshotInvalidError(`booted with kernel arguments "${header.bootArgs ?? ''}", this server boots with "${expected.bootArgs ?? ''}"`);
  if (options.ignoreShape && header.network === expected.network && header.devices === expected.devices) return header;
  if (header.diskMiB !== expected.diskMiB || header.network !== expected.network || header.devices !== expected.devices || JSON.stringify(header.shape) !== JSON.stringify(expected.shape)) {
    throw new SnapshotInvalidError('made for another machine shape, disk size or network device');
  }
  return header;
}

export async function describeFile(filePath: string): Promise<SnapshotFile> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(filePath, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { bytes, sha256: hash.digest('hex') };
}

/** Checks a file against its header entry: size always, content hash when `full`. */
export async function verifyFile(filePath: string, expected: SnapshotFile | undefined, name: string, full: boolean): Promise<void> {
  if (!expected) throw new SnapshotInvalidError(`the header lists no ${name} file`);
  const stat = await fs.stat(filePath).catch(() => undefined);
  if (!stat || stat.size !== expected.bytes) throw new SnapshotInvalidError(`${name} file is missing or has the wrong size`);
  if (full && (await describeFile(filePath)).sha256 !== expected.sha256) throw new SnapshotInvalidError(`${name} file checksum mismatch`);
}
