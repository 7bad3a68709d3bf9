// Per-template memory snapshots: a guest booted with its RAM in a shared file is stopped once its supervisor
// answers, its device state migrated to a file with `x-ignore-shared` (RAM is not copied: it already is the
// file), and its disk kept beside. Restores map the RAM file privately (copy-on-write), so the snapshot stays
// pristine and any number of sandboxes share its unmodified pages.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { TemplateRecord } from '../../store/store.js';
import { DEVICE_LAYOUT, type MachineShape } from './qemu-command.js';
import { withQmp, type QmpClient } from './qmp-client.js';
import { decodeHeader, describeFile, encodeHeader, SnapshotInvalidError, verifyFile, type SnapshotHeader, type SnapshotIdentity } from './snapshot-header.js';

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

export interface SnapshotFor {
  template: TemplateRecord;
  kernel: string;
  /** RootImage.identity of the image the guest boots from. */
  rootImage: string;
  diskMiB: number;
  network: boolean;
  shape: MachineShape;
  bootArgs: readonly string[];
}

/** The identity a template's snapshot must carry: its layers, the kernel, the root image build, disk, network device and machine shape. */
export function snapshotIdentity(of: SnapshotFor): SnapshotIdentity {
  // the start command runs before the snapshot is taken: what it ran with is part of what the snapshot holds
  const { startCmd, readyCmd, env, user, workdir } = of.template.config;
  const template = createHash('sha256').update(JSON.stringify([of.template.layers, startCmd ?? null, readyCmd ?? null, env, user, workdir])).digest('hex').slice(0, 20);
  return { backend: 'microvm', kernel: of.kernel, template, rootImage: of.rootImage, diskMiB: of.diskMiB, network: of.network, devices: DEVICE_LAYOUT,
    ...(of.bootArgs.length > 0 ? { bootArgs: of.bootArgs.join(' ') } : {}), shape: of.shape };
}

export function snapshotKey(identity: SnapshotIdentity): string {
  return createHash('sha256').update(JSON.stringify(identity)).digest('hex').slice(0, 20);
}

/** Stops the guest and writes its device state (not its RAM) to `statePath`. */
export async function saveDeviceState(qmpSocket: string, statePath: string): Promise<void> {
  await withQmp(qmpSocket, async (qmp) => {
    await qmp.execute('migrate-set-capabilities', { capabilities: [{ capability: 'x-ignore-shared', state: true }] });
    // no `stop` first: the saved run state is then "running" and a restore starts the guest by itself; the
    // migration stops the vCPUs before it writes the device state, and RAM is the shared file as of that stop
    await qmp.execute('migrate', { uri: `exec:cat > ${shellQuote(statePath)}` });
    await waitForMigration(qmp, async () => ((await qmp.execute('query-migrate')) as { status?: string }).status, 'completed');
    await qmp.execute('quit').catch(() => undefined);
  }, 30_000);
}

/** Readies a QEMU started with `-incoming defer` (and the snapshot's RAM file) for a restore: done ahead, in a pre-spawned one. */
export async function prepareIncoming(qmp: QmpClient): Promise<void> {
  await qmp.execute('migrate-set-capabilities', { capabilities: [{ capability: 'x-ignore-shared', state: true }] });
}

/** Starts loading the device state; the guest runs by itself once it is loaded. */
export async function startIncoming(qmp: QmpClient, statePath: string): Promise<void> {
  await qmp.execute('migrate-incoming', { uri: `exec:cat ${shellQuote(statePath)}` });
}

/** Resolves once the restored guest runs (a snapshot saved paused gets a `cont`); rejects when the load failed. */
export async function waitUntilRunning(qmp: QmpClient): Promise<void> {
  for (;;) {
    const status = ((await qmp.execute('query-status')) as { status?: string }).status;
    if (status === 'running') return;
    if (status === 'paused') {
      await qmp.execute('cont');
      return;
    }
    if (status !== 'inmigrate' && status !== 'prelaunch') throw new Error(`restoring the snapshot failed: QEMU is ${String(status)}`);
    await new Promise((resolve) => setTimeout(resolve, MIGRATION_POLL_MS));
  }
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
  const header: SnapshotHeader = { ...identity, kind: 'template', files: { ram, state, disk }, takenAtMs: Date.now() };
  await fs.writeFile(paths.header, encodeHeader(header));
}

/**
 * Reads and checks a snapshot: the header always, file sizes always, the small device state's checksum on every
 * restore, the RAM and disk checksums once per server process (`verified` remembers them) and once after any
 * change to those files: a `verified` file beside them records their inode and ctime at the last full check, and
 * ctime moves on every write (a 10 GiB sparse disk takes tens of seconds to hash; every test server would).
 */
export async function checkSnapshot(paths: SnapshotPaths, identity: SnapshotIdentity, verified: Set<string>): Promise<SnapshotHeader> {
  const header = decodeHeader(await fs.readFile(paths.header), identity);
  const marker = path.join(paths.dir, 'verified');
  const stamp = await fileStamps([paths.header, paths.ram, paths.disk]);
  const full = !verified.has(paths.dir) && (await fs.readFile(marker, 'utf8').catch(() => '')) !== stamp;
  if (header.kind !== undefined && header.kind !== 'template') throw new SnapshotInvalidError(`a ${header.kind} image, not a template snapshot`);
  await Promise.all([
    verifyFile(paths.state, header.files.state, 'device state', true),
    verifyFile(paths.ram, header.files.ram, 'RAM', full),
    verifyFile(paths.disk, header.files.disk, 'disk', full),
  ]);
  if (full) await fs.writeFile(marker, stamp).catch(() => undefined);
  verified.add(paths.dir);
  return header;
}

async function fileStamps(files: readonly string[]): Promise<string> {
  const stats = await Promise.all(files.map((file) => fs.stat(file, { bigint: true }).catch(() => undefined)));
  return JSON.stringify(stats.map((stat) => (stat ? [String(stat.dev), String(stat.ino), String(stat.size), String(stat.ctimeNs)] : null)));
}

export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
