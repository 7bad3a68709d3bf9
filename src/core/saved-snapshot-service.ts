// Persistent snapshots (E2B's createSnapshot, listSnapshots, deleteSnapshot and Sandbox.create(snapshotId)): a
// checkpoint of a sandbox's memory and files, recorded in the store and kept under `<dataDir>/snapshots/saved/<id>`
// until deleted, across daemon restarts. The source runs on (a paused source is resumed for the checkpoint and
// paused again). New sandboxes restore it like a fork, each with its own id, hostname, environment and network.
//
// Deleting a snapshot always succeeds at once: it can no longer be found, and its files go as soon as no restore
// is reading them. Sandboxes already started from it are independent of it (a backend's restore copies what it
// needs, as fork relies on), so they keep running, as E2B users expect of deleteSnapshot.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Backend } from '../backends/backend.js';
import { BackendRouter } from '../backends/backend-router.js';
import { isBackendKind, parseBackendKind } from '../backends/backend-kinds.js';
import { ConflictError, InvalidArgumentError, TemplateNotFoundError, UnsupportedError, toHearthError } from '../errors/hearth-error.js';
import type { SandboxRecord, SnapshotRecord, Store, TemplateRecord } from '../store/store.js';
import type { CreateSandboxCommand } from './commands.js';
import { checkpointLiveSandbox } from './live-checkpoint.js';
import type { Logger } from './logger.js';
import type { SandboxPauseService } from './sandbox-pause-service.js';
import type { SandboxService } from './sandbox-service.js';
import { decodeSnapshotCursor, encodeSnapshotCursor, newSnapshotId, snapshotRefKey } from './snapshot-refs.js';

/** How long a paused source may run while it is checkpointed before it is paused again. */
const RESUME_FOR_SNAPSHOT_TIMEOUT_MS = 10 * 60_000;
export const MAX_SNAPSHOT_PAGE = 1000;

export interface SnapshotListCommand {
  sourceSandboxId: string | undefined;
  /** An id or name, optionally with E2B's `:default` tag. */
  ref: string | undefined;
  limit: number;
  nextToken: string | undefined;
}

export interface SnapshotPage {
  snapshots: SnapshotRecord[];
  nextToken: string | undefined;
}

async function directoryBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const entryPath = path.join(dir, entry.name);
    if (entry.isDirectory()) total += await directoryBytes(entryPath);
    else if (entry.isFile()) total += (await fs.lstat(entryPath)).size;
  }
  return total;
}

export class SavedSnapshotService {
  /** Restores in progress per snapshot id: its files stay until the last one finishes, even when it is deleted meanwhile. */
  private readonly restoring = new Map<string, number>();
  private readonly removeWhenIdle = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly backend: Backend,
    private readonly sandboxes: SandboxService,
    private readonly pauses: SandboxPauseService,
    private readonly dir: string,
    private readonly log: Logger,
  ) {}

  private filesOf(snapshotId: string): string {
    return path.join(this.dir, snapshotId);
  }

  /** Snapshots `sandboxId` (running or paused); a name held by an older snapshot moves to the new one. */
  async create(sandboxId: string, name: string | undefined): Promise<SnapshotRecord> {
    if (name !== undefined) {
      const template = await this.store.getTemplate(name);
      if (template) throw new ConflictError(`"${name}" already names template ${template.id} (snapshots and templates share names): pick another name`);
    }
    const paused = await this.pauses.settledPausedRecord(sandboxId);
    if (!paused) return this.fromLive(this.sandboxes.get(sandboxId), name);
    this.checkCapable(paused.backend);
    await this.pauses.resume(sandboxId, RESUME_FOR_SNAPSHOT_TIMEOUT_MS);
    try {
      return await this.fromLive(this.sandboxes.get(sandboxId), name);
    } finally {
      await this.pauses.pause(sandboxId).catch((error: unknown) => {
        this.log.warn(`sandbox ${sandboxId}: could not pause it again after its snapshot (${toHearthError(error).message}); it keeps running`);
      });
    }
  }

  private checkCapable(backendKind: string): void {
    const capabilities = this.backend instanceof BackendRouter && isBackendKind(backendKind) ? this.backend.capabilitiesOf(backendKind) : this.backend.capabilities();
    if (!capabilities.snapshot || !this.backend.snapshot) {
      throw new UnsupportedError('snapshot', `the ${backendKind} backend cannot checkpoint a sandbox's memory (use the gvisor or microvm backend)`);
    }
  }

  private async fromLive(source: SandboxRecord, name: string | undefined): Promise<SnapshotRecord> {
    this.checkCapable(source.backend);
    const template = await this.store.getTemplate(source.templateId);
    if (!template) throw new TemplateNotFoundError(source.templateId);
    const id = newSnapshotId();
    const dir = this.filesOf(id);
    try {
      await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
      await checkpointLiveSandbox({ sandboxes: this.sandboxes, backend: this.backend, pauses: this.pauses }, source.id, dir, 'snapshot');
      const record: SnapshotRecord = {
        id,
        name: name ?? null,
        sourceSandboxId: source.id,
        backend: source.backend,
        template,
        cpuCount: source.cpuCount,
        memoryMiB: source.memoryMiB,
        pidsLimit: source.pidsLimit,
        envVars: source.envVars,
        sizeBytes: await directoryBytes(dir),
        createdAtMs: Date.now(),
      };
      await this.store.insertSnapshot(record);
      await this.store.appendEvent({ atMs: record.createdAtMs, sandboxId: source.id, type: 'sandbox.snapshot', detail: { snapshotId: id, name: record.name } });
      this.log.info(`sandbox ${source.id}: snapshot ${id}${name ? ` (${name})` : ''} saved, ${record.sizeBytes} bytes`);
      return record;
    } catch (error) {
      await fs.rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  async list(command: SnapshotListCommand): Promise<SnapshotPage> {
    const key = command.ref === undefined ? undefined : snapshotRefKey(command.ref);
    if (command.ref !== undefined && key === undefined) return { snapshots: [], nextToken: undefined };
    const rows = await this.store.listSnapshots({
      ...(command.sourceSandboxId !== undefined ? { sourceSandboxId: command.sourceSandboxId } : {}),
      ...(key !== undefined ? { idOrName: key } : {}),
      ...(command.nextToken ? { after: decodeSnapshotCursor(command.nextToken) } : {}),
      limit: command.limit + 1,
    });
    const snapshots = rows.slice(0, command.limit);
    const last = snapshots[snapshots.length - 1];
    return { snapshots, nextToken: rows.length > command.limit && last ? encodeSnapshotCursor(last) : undefined };
  }

  /** The snapshot a create's `templateID` names, or undefined. */
  async find(ref: string): Promise<SnapshotRecord | undefined> {
    const key = snapshotRefKey(ref);
    return key === undefined ? undefined : this.store.getSnapshot(key);
  }

  /** Starts a sandbox from the snapshot `command.templateId` names; undefined when it names none. */
  async startSandbox(command: CreateSandboxCommand): Promise<SandboxRecord | undefined> {
    const snapshot = await this.find(command.templateId);
    if (!snapshot) return undefined;
    const backend = parseBackendKind(snapshot.backend, `snapshot ${snapshot.id}'s backend`);
    if (command.backend && command.backend !== backend) throw new InvalidArgumentError(`snapshot ${snapshot.id} was taken on the ${backend} backend and starts only there, not on ${command.backend}`);
    this.restoring.set(snapshot.id, (this.restoring.get(snapshot.id) ?? 0) + 1);
    try {
      // deleted between the lookup and the lease: as if it had not been found
      if (!(await this.store.getSnapshot(snapshot.id))) return undefined;
      const template: TemplateRecord = { ...snapshot.template, cpuCount: snapshot.cpuCount, memoryMiB: snapshot.memoryMiB, pidsLimit: snapshot.pidsLimit };
      const restoreCommand: CreateSandboxCommand = { ...command, templateId: template.id, backend, envVars: { ...snapshot.envVars, ...command.envVars } };
      const record = await this.sandboxes.startFromSnapshot(template, restoreCommand, { dir: this.filesOf(snapshot.id), templateId: template.id, sourceSandboxId: snapshot.sourceSandboxId });
      if (command.tools.length > 0) await this.sandboxes.setTools(record.id, command.tools);
      await this.store.appendEvent({ atMs: Date.now(), sandboxId: record.id, type: 'sandbox.restored', detail: { snapshotId: snapshot.id } });
      return record;
    } finally {
      const left = (this.restoring.get(snapshot.id) ?? 1) - 1;
      if (left > 0) this.restoring.set(snapshot.id, left);
      else {
        this.restoring.delete(snapshot.id);
        if (this.removeWhenIdle.delete(snapshot.id)) await this.removeFiles(snapshot.id);
      }
    }
  }

  /** Deletes the snapshot `ref` names: true when there was one, false when none has that id or name. */
  async delete(ref: string): Promise<boolean> {
    const snapshot = await this.find(ref);
    if (!snapshot || !(await this.store.deleteSnapshot(snapshot.id))) return false;
    if (this.restoring.has(snapshot.id)) this.removeWhenIdle.add(snapshot.id);
    else await this.removeFiles(snapshot.id);
    this.log.info(`snapshot ${snapshot.id} deleted`);
    return true;
  }

  private async removeFiles(snapshotId: string): Promise<void> {
    await fs.rm(this.filesOf(snapshotId), { recursive: true, force: true }).catch((error: unknown) => {
      this.log.warn(`snapshot ${snapshotId}: cannot remove its files (${toHearthError(error).message}); they go at the next start`);
    });
  }

  /** At start-up: files of snapshots the store does not know (deleted during a restore, or a crash mid-snapshot) go. */
  async removeOrphanFiles(): Promise<number> {
    const entries = await fs.readdir(this.dir).catch(() => [] as string[]);
    if (entries.length === 0) return 0;
    const known = new Set((await this.store.listSnapshots({})).map((snapshot) => snapshot.id));
    const orphans = entries.filter((entry) => !known.has(entry));
    await Promise.all(orphans.map((entry) => this.removeFiles(entry)));
    return orphans.length;
  }
}
