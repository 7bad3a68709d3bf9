// Per-template memory snapshots: a guest booted with its RAM in a shared file is stopped once its supervisor
// answers, its device state migrated to a file with `x-ignore-shared` (RAM is not copied: it already is the
// file), and its disk kept beside. Restores map the RAM file privately (copy-on-write), so the snapshot stays
// pristine and any number of sandboxes share its unmodified pages.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { TemplateRecord } from '../../store/store.js';
import type { MachineShape } from './qemu-command.js';
import { withQmp, type QmpClient } from './qmp-client.js';
import { decodeHeader, describeFile, encodeHeader, verifyFile, type SnapshotHeader, type SnapshotIdentity } from './snapshot-header.js';

export interface SnapshotPaths {
  dir: string;
  header: string;
  ram: string;
  state: string;
  disk: string;
}

const MIGRATION_POLL_MS = 2;

export function snapshotPaths(dir: string): SnapshotPaths {
  return { dir, header: path.join(dir, 'header'), ram: path.join(dir, 'ram'), state: path.join(dir, 'state'), disk: path.join(dir, 'disk.ext4') };
}

/** The identity a template's snapshot must carry: its layers, the kernel and the machine shape. */
export function snapshotIdentity(template: TemplateRecord, kernel: string, shape: MachineShape): SnapshotIdentity {
  return { backend: 'microvm', kernel, template: createHash('sha256').update(JSON.stringify(template.layers)).digest('hex').slice(0, 20), shape };
}

export function snapshotKey(identity: SnapshotIdentity): string {
  return createHash('sha256').update(JSON.stringify(identity)).digest('hex').slice(0, 20);
}

/** Stops the guest and writes its device state (not its RAM) to `statePath`. */
export async function saveDeviceState(qmpSocket: string, statePath: string): Promise<void> {
  await withQmp(qmpSocket, async (qmp) => {
    await qmp.execute('migrate-set-capabilities', { capabilities: [{ capability: 'x-ignore-shared', state: true }] });
    await qmp.execute('stop');
    await qmp.execute('migrate', { uri: `exec:cat > ${shellQuote(statePath)}` });
    await waitForMigration(qmp, async () => ((await qmp.execute('query-migrate')) as { status?: string }).status, 'completed');
    await qmp.execute('quit').catch(() => undefined);
  }, 30_000);
}

/** Loads the device state into a QEMU started with `-incoming defer` and the snapshot's RAM file, then runs it. */
export async function loadDeviceState(qmpSocket: string, statePath: string): Promise<void> {
  await withQmp(qmpSocket, async (qmp) => {
    await qmp.execute('migrate-set-capabilities', { capabilities: [{ capability: 'x-ignore-shared', state: true }] });
    await qmp.execute('migrate-incoming', { uri: `exec:cat ${shellQuote(statePath)}` });
    await waitForMigration(qmp, async () => ((await qmp.execute('query-status')) as { status?: string }).status, 'paused');
    await qmp.execute('cont');
  }, 30_000);
}

async function waitForMigration(qmp: QmpClient, status: () => Promise<string | undefined>, done: string): Promise<void> {
  for (;;) {
    const now = await status();
    if (now === done) return;
    if (now === 'failed' || now === 'cancelled' || now === 'internal-error') throw new Error(`migration ${now}`);
    await new Promise((resolve) => setTimeout(resolve, MIGRATION_POLL_MS));
  }
  void qmp;
}

export async function writeSnapshotHeader(paths: SnapshotPaths, identity: SnapshotIdentity): Promise<void> {
  const [ram, state, disk] = await Promise.all([describeFile(paths.ram), describeFile(paths.state), describeFile(paths.disk)]);
  const header: SnapshotHeader = { ...identity, files: { ram, state, disk }, takenAtMs: Date.now() };
  await fs.writeFile(paths.header, encodeHeader(header));
}

/**
 * Reads and checks a snapshot: the header always, file sizes always, the small device state's checksum on every
 * restore, the RAM and disk checksums once per server process (`verified` remembers them).
 */
export async function checkSnapshot(paths: SnapshotPaths, identity: SnapshotIdentity, verified: Set<string>): Promise<SnapshotHeader> {
  const header = decodeHeader(await fs.readFile(paths.header), identity);
  const full = !verified.has(paths.dir);
  await Promise.all([
    verifyFile(paths.state, header.files.state, 'device state', true),
    verifyFile(paths.ram, header.files.ram, 'RAM', full),
    verifyFile(paths.disk, header.files.disk, 'disk', full),
  ]);
  verified.add(paths.dir);
  return header;
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
