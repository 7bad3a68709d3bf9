// Template builds and management: build from a Dockerfile with live logs, list, inspect, alias, delete (refused while in use).
import { randomBytes } from 'node:crypto';
import { createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import type { Backend } from '../backends/backend.js';
import type { ServerConfig } from '../config/server-config.js';
import { ConflictError, InvalidArgumentError, TemplateNotFoundError, toHearthError } from '../errors/hearth-error.js';
import type { Store, TemplateRecord } from '../store/store.js';
import { buildTemplate, parseDockerfile } from '../templates/builder/template-builder.js';
import type { Instruction } from '../templates/dockerfile/dockerfile-instructions.js';
import type { SandboxLimits } from './commands.js';
import type { Logger } from './logger.js';
import { LIVE_STATES } from './sandbox-state-machine.js';

export interface BuildJob {
  buildId: string;
  templateId: string;
  status: 'building' | 'ready' | 'failed';
  startedAtMs: number;
  finishedAtMs: number | undefined;
  error: string | undefined;
  lines: string[];
  /** Timestamps of `lines`, for E2B's log entries. */
  lineTimesMs: number[];
  cachedSteps: number;
  builtSteps: number;
  listeners: Set<(line: string | undefined) => void>;
}

export interface BuildCommand {
  name: string;
  /** A Dockerfile's text, or instructions already translated (the e2b SDK's template builder). */
  source: { kind: 'dockerfile'; text: string } | { kind: 'instructions'; instructions: Instruction[] };
  contextDir: string;
  buildArgs: Record<string, string>;
  startCmd: string | undefined;
  readyCmd: string | undefined;
  /** Defaults for the template's sandboxes; absent ones are the server's. */
  limits: SandboxLimits;
}

const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export class TemplateService {
  private readonly jobs = new Map<string, BuildJob>();
  private readonly buildingNames = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly backend: Backend,
    private readonly config: ServerConfig,
    private readonly log: Logger,
  ) {}

  private readonly reserved = new Map<string, { name: string; limits: SandboxLimits }>();

  /** The e2b SDK first asks for a build id, uploads files, then triggers the build with that id. */
  reserveBuild(name: string, limits: SandboxLimits): { buildId: string } {
    if (!NAME_PATTERN.test(name)) throw new InvalidArgumentError(`template name "${name}" must be lowercase letters, digits, '.', '_' or '-'`);
    if (name === 'base') throw new InvalidArgumentError('"base" is the built-in template; pick another name');
    const buildId = `bld_${randomBytes(8).toString('hex')}`;
    this.reserved.set(buildId, { name, limits });
    return { buildId };
  }

  reservation(buildId: string, name: string): SandboxLimits {
    const reserved = this.reserved.get(buildId);
    if (!reserved || reserved.name !== name) throw new TemplateNotFoundError(`build ${buildId} of ${name}`);
    return reserved.limits;
  }

  /** Starts a build and returns at once; follow it with job() and its listeners. */
  async startBuild(command: BuildCommand, reservedBuildId?: string): Promise<BuildJob> {
    if (!NAME_PATTERN.test(command.name)) throw new InvalidArgumentError(`template name "${command.name}" must be lowercase letters, digits, '.', '_' or '-'`);
    if (command.name === 'base') throw new InvalidArgumentError('"base" is the built-in template; pick another name');
    if (this.buildingNames.has(command.name)) throw new ConflictError(`template "${command.name}" is already being built`);
    await this.checkNotSnapshotName(command.name);
    const stat = await fs.stat(command.contextDir).catch(() => undefined);
    if (!stat?.isDirectory()) throw new InvalidArgumentError(`build context ${command.contextDir} is not a directory on the server`);
    const limits = { ...command.limits, ...(reservedBuildId ? this.reserved.get(reservedBuildId)?.limits : {}) };
    if (reservedBuildId) this.reserved.delete(reservedBuildId);
    const job: BuildJob = {
      buildId: reservedBuildId ?? `bld_${randomBytes(8).toString('hex')}`,
      templateId: command.name,
      status: 'building',
      startedAtMs: Date.now(),
      finishedAtMs: undefined,
      error: undefined,
      lines: [],
      lineTimesMs: [],
      cachedSteps: 0,
      builtSteps: 0,
      listeners: new Set(),
    };
    this.jobs.set(job.buildId, job);
    this.buildingNames.add(command.name);
    const logsDir = path.join(this.config.templatesDir, 'build-logs');
    await fs.mkdir(logsDir, { recursive: true });
    const logFile = createWriteStream(path.join(logsDir, `${job.buildId}.log`));
    const emit = (line: string): void => {
      job.lines.push(line);
      job.lineTimesMs.push(Date.now());
      logFile.write(`${line}\n`);
      for (const listener of job.listeners) listener(line);
    };
    void (async () => {
      try {
        emit(`building template ${command.name} (${job.buildId})`);
        const instructions = command.source.kind === 'dockerfile' ? parseDockerfile(command.source.text, new Map(Object.entries(command.buildArgs))).instructions : command.source.instructions;
        const result = await buildTemplate(
          {
            instructions,
            defaultBuildUser: command.source.kind === 'dockerfile' ? 'root' : 'user',
            contextDir: command.contextDir,
            buildArgs: new Map(Object.entries(command.buildArgs)),
            startCmd: command.startCmd,
            readyCmd: command.readyCmd,
          },
          {
            backend: this.backend,
            templatesDir: this.config.templatesDir,
            findTemplate: async (name) => this.store.getTemplate(name),
            log: emit,
          },
        );
        const existing = await this.store.getTemplate(command.name);
        await this.store.upsertTemplate({
          id: command.name,
          aliases: existing?.aliases ?? [],
          layers: result.layers,
          config: result.config,
          buildMs: Date.now() - job.startedAtMs,
          createdAtMs: Date.now(),
          cpuCount: limits.cpuCount ?? this.config.defaultCpuCount,
          memoryMiB: limits.memoryMiB ?? this.config.defaultMemoryMiB,
          diskMiB: limits.diskMiB ?? this.config.defaultDiskMiB,
          pidsLimit: limits.pidsLimit ?? this.config.defaultPidsLimit,
          sizeBytes: result.sizeBytes,
          status: 'ready',
        });
        job.cachedSteps = result.cachedSteps;
        job.builtSteps = result.builtSteps;
        job.status = 'ready';
        emit(`template ${command.name} ready: ${result.layers.length} layers, ${result.builtSteps} built, ${result.cachedSteps} from cache, ${((Date.now() - job.startedAtMs) / 1000).toFixed(1)} s`);
      } catch (error) {
        job.status = 'failed';
        job.error = toHearthError(error).message;
        emit(`build failed: ${job.error}`);
        this.log.warn(`template ${command.name}: ${job.error}`);
      } finally {
        job.finishedAtMs = Date.now();
        this.buildingNames.delete(command.name);
        logFile.end();
        for (const listener of job.listeners) listener(undefined);
        job.listeners.clear();
      }
    })();
    return job;
  }

  /** Snapshots and templates share the `templateID` of a create: a template must not hide a snapshot's name. */
  private async checkNotSnapshotName(name: string): Promise<void> {
    const snapshot = await this.store.getSnapshot(name);
    if (snapshot) throw new ConflictError(`"${name}" already names snapshot ${snapshot.id} (snapshots and templates share names): pick another name or delete the snapshot`);
  }

  job(buildId: string): BuildJob {
    const job = this.jobs.get(buildId);
    if (!job) throw new TemplateNotFoundError(`build ${buildId}`);
    return job;
  }

  async get(idOrAlias: string): Promise<TemplateRecord> {
    const template = await this.store.getTemplate(idOrAlias);
    if (!template) throw new TemplateNotFoundError(idOrAlias);
    return template;
  }

  async alias(idOrAlias: string, alias: string): Promise<TemplateRecord> {
    if (!NAME_PATTERN.test(alias)) throw new InvalidArgumentError(`alias "${alias}" must be lowercase letters, digits, '.', '_' or '-'`);
    const other = await this.store.getTemplate(alias);
    const template = await this.get(idOrAlias);
    if (other && other.id !== template.id) throw new ConflictError(`"${alias}" already names template ${other.id}`);
    await this.checkNotSnapshotName(alias);
    const updated = { ...template, aliases: [...new Set([...template.aliases, alias])] };
    await this.store.upsertTemplate(updated);
    return updated;
  }

  /** Deletes a template; refused while a sandbox (or pooled one) still uses it. Layers stay cached for rebuilds. */
  async delete(idOrAlias: string): Promise<void> {
    const template = await this.get(idOrAlias);
    if (template.id === 'base') throw new ConflictError('the built-in base template cannot be deleted');
    const inUse = (await this.store.listSandboxes({ states: LIVE_STATES, templateId: template.id })).length;
    if (inUse > 0) throw new ConflictError(`template ${template.id} is in use by ${inUse} sandbox(es) (pooled ones included): kill them or set its pool to 0 first`);
    await this.store.deleteTemplate(template.id);
  }
}
