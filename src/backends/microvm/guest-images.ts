// A single sandbox's memory image, for pause and fork: the guest's vCPUs stop, its whole migration stream (RAM
// and device state; untouched pages travel as markers, so an idle 256 MiB guest writes a few tens of MiB) goes
// to a file, and the header beside it names the guest it fits. Pause keeps the sandbox's own disk where it is;
// a fork image carries a copy of the disk taken while the vCPUs were stopped, so files and memory agree.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { InternalError } from '../../errors/hearth-error.js';
import { shellQuote } from './memory-snapshots.js';
import type { QmpClient } from './qmp-client.js';
import { decodeHeader, describeFile, encodeHeader, SnapshotInvalidError, verifyFile, type SnapshotHeader, type SnapshotIdentity, type SnapshotKind } from './snapshot-header.js';

export const IMAGE_STATE_FILE = 'state';
export const IMAGE_HEADER_FILE = 'header';
export const IMAGE_DISK_FILE = 'disk.ext4';

/** The migration stream is written at disk speed; QEMU's default bandwidth cap (for live migration over a network) would make it take seconds. */
const UNCAPPED_BYTES_PER_SECOND = 64 * 1024 * 1024 * 1024;
const MIGRATION_POLL_MS = 2;

export interface GuestImagePaths {
  dir: string;
  header: string;
  state: string;
  /** The disk the image's memory refers to: the sandbox's own (pause) or a copy (fork). */
  disk: string;
}

export function guestImagePaths(dir: string, disk = path.join(dir, IMAGE_DISK_FILE)): GuestImagePaths {
  return { dir, header: path.join(dir, IMAGE_HEADER_FILE), state: path.join(dir, IMAGE_STATE_FILE), disk };
}

/** Stops the vCPUs and writes the guest's whole state, RAM included, to `statePath`; the guest stays stopped. */
export async function saveWholeGuest(qmp: QmpClient, statePath: string): Promise<void> {
  await qmp.execute('stop');
  await qmp.execute('migrate-set-capabilities', { capabilities: [{ capability: 'x-ignore-shared', state: false }] });
  await qmp.execute('migrate-set-parameters', { 'max-bandwidth': UNCAPPED_BYTES_PER_SECOND });
  await qmp.execute('migrate', { uri: `exec:cat > ${shellQuote(statePath)}` });
  for (;;) {
    const { status, 'error-desc': reason } = (await qmp.execute('query-migrate')) as { status?: string; 'error-desc'?: string };
    if (status === 'completed') return;
    if (status === 'failed' || status === 'cancelled') throw new InternalError(`saving the guest's memory ${status}${reason ? `: ${reason}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, MIGRATION_POLL_MS));
  }
}

/** Lets a guest stopped by saveWholeGuest run on (a fork's source). */
export async function continueGuest(qmp: QmpClient): Promise<void> {
  await qmp.execute('cont');
}

/** Readies a QEMU started with `-incoming defer` for a whole-guest stream, then starts loading it. */
export async function loadWholeGuest(qmp: QmpClient, statePath: string): Promise<void> {
  await qmp.execute('migrate-set-capabilities', { capabilities: [{ capability: 'x-ignore-shared', state: false }] });
  await qmp.execute('migrate-incoming', { uri: `exec:cat ${shellQuote(statePath)}` });
}

/**
 * Writes the header last, atomically, so an image without one is an interrupted save. The state file is hashed;
 * the disk is checked by size only (it is the sandbox's own, often a mostly empty multi-GiB sparse file).
 */
export async function writeImageHeader(paths: GuestImagePaths, identity: SnapshotIdentity, kind: SnapshotKind, sourceSandboxId: string): Promise<SnapshotHeader> {
  const [state, diskStat] = await Promise.all([describeFile(paths.state), fs.stat(paths.disk)]);
  const header: SnapshotHeader = { ...identity, kind, sourceSandboxId, files: { state, disk: { bytes: diskStat.size, sha256: '' } }, takenAtMs: Date.now() };
  const temporary = `${paths.header}.partial`;
  await fs.writeFile(temporary, encodeHeader(header));
  await fs.rename(temporary, paths.header);
  return header;
}

/**
 * Checks an image before anything is restored from it: the header's integrity and that it was made for this
 * kernel, root image, device layout, template and (for a pause) this very sandbox, the state's SHA-256, the disk's size.
 * The machine shape and disk size come from the header (a fork's guest keeps its source's); `expected` gives the rest.
 */
export async function checkGuestImage(paths: GuestImagePaths, expected: Omit<SnapshotIdentity, 'shape' | 'diskMiB'>, kind: SnapshotKind, sourceSandboxId?: string): Promise<SnapshotHeader> {
  const bytes = await fs.readFile(paths.header).catch((error: unknown) => {
    throw new SnapshotInvalidError(`no header in ${paths.dir} (the image was never completed)`, { cause: error });
  });
  const peek = decodeHeader(bytes, { ...expected, shape: { vcpus: 0, guestMemoryMiB: 0, pidsLimit: 0 }, diskMiB: 0 }, { ignoreShape: true });
  if (peek.kind !== kind) throw new SnapshotInvalidError(`a ${String(peek.kind ?? 'template')} image, not a ${kind} image`);
  if (sourceSandboxId !== undefined && peek.sourceSandboxId !== sourceSandboxId) throw new SnapshotInvalidError(`taken from sandbox ${String(peek.sourceSandboxId)}, not ${sourceSandboxId}`);
  await Promise.all([verifyFile(paths.state, peek.files.state, 'memory state', true), verifyFile(paths.disk, peek.files.disk, 'disk', false)]);
  return peek;
}
