// Fork (E2B's POST /sandboxes/{id}/fork): one checkpoint of a running sandbox (memory and files, the source
// keeps running), then N new sandboxes restored from it, each with its own copy of the files, identity and
// network. Each fork succeeds or fails on its own.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Backend } from '../backends/backend.js';
import { parseBackendKind } from '../backends/backend-kinds.js';
import { InvalidArgumentError, TemplateNotFoundError, toHearthError, type HearthError } from '../errors/hearth-error.js';
import type { SandboxRecord, Store } from '../store/store.js';
import type { CreateSandboxCommand } from './commands.js';
import { checkpointLiveSandbox } from './live-checkpoint.js';
import type { Logger } from './logger.js';
import type { SandboxPauseService } from './sandbox-pause-service.js';
import type { SandboxService } from './sandbox-service.js';

export const MAX_FORKS = 16;

export class SandboxForkService {
  constructor(
    private readonly store: Store,
    private readonly backend: Backend,
    private readonly sandboxes: SandboxService,
    private readonly pauses: SandboxPauseService,
    private readonly forksDir: string,
    private readonly log: Logger,
  ) {}

  async fork(sourceId: string, count: number, timeoutMs: number): Promise<Array<SandboxRecord | HearthError>> {
    if (!Number.isInteger(count) || count < 1 || count > MAX_FORKS) throw new InvalidArgumentError(`count must be an integer from 1 to ${MAX_FORKS}`);
    this.sandboxes.checkTimeout(timeoutMs);
    const { templateId } = this.sandboxes.getLive(sourceId).record;
    const template = await this.store.getTemplate(templateId);
    if (!template) throw new TemplateNotFoundError(templateId);
    const dir = path.join(this.forksDir, `${sourceId}-${randomBytes(4).toString('hex')}`);
    try {
      const { snapshot, source } = await checkpointLiveSandbox({ sandboxes: this.sandboxes, backend: this.backend, pauses: this.pauses }, sourceId, dir, 'fork');
      const { record } = source;
      const command: CreateSandboxCommand = {
        kind: 'create',
        templateId: template.id,
        timeoutMs,
        metadata: record.metadata,
        envVars: record.envVars,
        autoPause: false,
        tools: [],
        // no disk limit of its own: only backends without memory snapshots have one
        limits: { cpuCount: record.cpuCount, memoryMiB: record.memoryMiB, pidsLimit: record.pidsLimit },
        network: {
          allowOut: record.network.allowOut,
          denyOut: record.network.denyOut,
          rules: record.network.rules,
          allowPublicTraffic: record.network.allowPublicTraffic,
          maskRequestHost: record.network.maskRequestHost,
          secrets: record.network.secrets,
        },
        backend: parseBackendKind(record.backend, 'backend'),
      };
      const results: Array<SandboxRecord | HearthError> = [];
      for (let index = 0; index < count; index++) {
        results.push(await this.sandboxes.startFromSnapshot(template, command, snapshot).catch((error: unknown) => toHearthError(error)));
      }
      this.log.info(`sandbox ${sourceId}: forked ${results.filter((result) => !(result instanceof Error)).length} of ${count}`);
      return results;
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }
}
