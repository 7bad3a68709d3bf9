// Snapshot-started templates: a template labelled `hearth.snapshot=true` is checkpointed once, right after its
// first sandbox ran the start command and passed the ready check; later sandboxes (pooled ones too) restore that
// checkpoint instead of booting and initialising again. One snapshot per template build, kept in the data dir.
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Backend, SandboxRuntime, SandboxSnapshot } from '../backends/backend.js';
import { toHearthError } from '../errors/hearth-error.js';
import type { TemplateRecord } from '../store/store.js';
import type { Logger } from './logger.js';

export const SNAPSHOT_LABEL = 'hearth.snapshot';
/** The backends that can restore memory snapshots. */
const SNAPSHOT_BACKENDS = new Set(['gvisor']);
const DONE_FILE = 'complete';

export function isSnapshotTemplate(template: TemplateRecord): boolean {
  return template.config.labels[SNAPSHOT_LABEL] === 'true';
}

/** Changes whenever the template is rebuilt or its start command or ready check change. */
function buildKey(template: TemplateRecord): string {
  const { startCmd, readyCmd, env, user, workdir } = template.config;
  return createHash('sha256').update(JSON.stringify([template.layers, startCmd, readyCmd, env, user, workdir])).digest('hex').slice(0, 16);
}

export class TemplateSnapshots {
  private readonly taking = new Set<string>();

  constructor(
    private readonly backend: Backend,
    private readonly dir: string,
    private readonly log: Logger,
  ) {}

  private snapshotDir(template: TemplateRecord): string {
    return path.join(this.dir, `${template.id}-${buildKey(template)}`);
  }

  async find(template: TemplateRecord, backendKind: string): Promise<SandboxSnapshot | undefined> {
    if (!isSnapshotTemplate(template) || !SNAPSHOT_BACKENDS.has(backendKind)) return undefined;
    const dir = this.snapshotDir(template);
    const source = await fs.readFile(path.join(dir, DONE_FILE), 'utf8').catch(() => undefined);
    return source === undefined ? undefined : { dir, templateId: template.id, sourceSandboxId: source.trim() };
  }

  /** Takes the template's snapshot from a freshly started sandbox if it has none yet; true when it did. */
  async takeIfMissing(template: TemplateRecord, backendKind: string, runtime: SandboxRuntime): Promise<boolean> {
    if (!isSnapshotTemplate(template) || !SNAPSHOT_BACKENDS.has(backendKind) || !this.backend.snapshot) return false;
    const dir = this.snapshotDir(template);
    if (this.taking.has(dir) || (await this.find(template, backendKind))) return false;
    this.taking.add(dir);
    const temporary = `${dir}.tmp-${randomBytes(4).toString('hex')}`;
    try {
      const snapshot = await this.backend.snapshot(runtime, temporary);
      await fs.writeFile(path.join(temporary, DONE_FILE), `${snapshot.sourceSandboxId}\n`);
      await fs.rm(dir, { recursive: true, force: true });
      await fs.rename(temporary, dir);
      this.log.info(`template ${template.id}: memory snapshot taken; new sandboxes restore it`);
      return true;
    } catch (error) {
      this.log.warn(`template ${template.id}: memory snapshot failed (${toHearthError(error).message}); sandboxes start cold`);
      await fs.rm(temporary, { recursive: true, force: true });
      return true;
    } finally {
      this.taking.delete(dir);
    }
  }
}
