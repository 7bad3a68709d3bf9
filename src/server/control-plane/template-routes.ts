// Templates: E2B-shaped listing plus Hearth's build API (Dockerfile builds with streamed logs), aliases and deletion.
import type { BuildJob, TemplateService } from '../../core/template-service.js';
import type { ServerConfig } from '../../config/server-config.js';
import type { Store, TemplateRecord } from '../../store/store.js';
import { InvalidArgumentError } from '../../errors/hearth-error.js';
import { readJson, sendEmpty, sendJson } from '../http-io.js';
import type { Router } from '../router.js';
import { asObject, stringMap } from './request-parsing.js';
import { parseLimits } from './limit-parsing.js';

function templateView(template: TemplateRecord): Record<string, unknown> {
  return {
    templateID: template.id,
    buildID: template.id,
    aliases: template.aliases,
    names: [template.id, ...template.aliases],
    public: false,
    cpuCount: template.cpuCount,
    memoryMB: template.memoryMiB,
    diskSizeMB: template.diskMiB,
    pidsLimit: template.pidsLimit,
    createdAt: new Date(template.createdAtMs).toISOString(),
    updatedAt: new Date(template.createdAtMs).toISOString(),
    buildStatus: template.status,
    sizeBytes: template.sizeBytes,
    buildMs: template.buildMs,
    layers: template.layers.length,
    config: template.config,
  };
}

function jobView(job: BuildJob): Record<string, unknown> {
  return {
    buildID: job.buildId,
    templateID: job.templateId,
    status: job.status,
    startedAt: new Date(job.startedAtMs).toISOString(),
    finishedAt: job.finishedAtMs ? new Date(job.finishedAtMs).toISOString() : null,
    error: job.error ?? null,
    cachedSteps: job.cachedSteps,
    builtSteps: job.builtSteps,
    logLines: job.lines.length,
  };
}

function optionalText(value: unknown, what: string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new InvalidArgumentError(`${what} must be a string`);
  return value;
}

/** What template deletion asks of persistent snapshots: the SDK deletes a snapshot through DELETE /templates/{id}. */
export interface SnapshotDeletion {
  /** true when `ref` named a snapshot (now deleted), false when it names none. */
  delete(ref: string): Promise<boolean>;
}

export function registerTemplateRoutes(router: Router, store: Store, templates: TemplateService, config: ServerConfig, snapshots?: SnapshotDeletion): void {
  router.add('GET', '/templates', async ({ response }) => {
    sendJson(response, 200, (await store.listTemplates()).map(templateView));
  });
  router.add('GET', '/templates/:templateID', async ({ response, params }) => {
    sendJson(response, 200, templateView(await templates.get(params['templateID'] ?? '')));
  });
  router.add('DELETE', '/templates/:templateID', async ({ response, params }) => {
    const ref = params['templateID'] ?? '';
    if (!(await snapshots?.delete(ref))) await templates.delete(ref);
    sendEmpty(response, 204);
  });
  router.add('POST', '/admin/templates/:templateID/aliases', async ({ request, response, params }) => {
    const body = asObject(await readJson(request, config.maxJsonBodyBytes), 'request body');
    const alias = optionalText(body['alias'], 'alias');
    if (!alias) throw new InvalidArgumentError('alias is required');
    sendJson(response, 200, templateView(await templates.alias(params['templateID'] ?? '', alias)));
  });

  router.add('POST', '/admin/templates/builds', async ({ request, response }) => {
    const body = asObject(await readJson(request, config.maxJsonBodyBytes), 'request body');
    const name = optionalText(body['name'], 'name');
    const dockerfile = optionalText(body['dockerfile'], 'dockerfile');
    const contextDir = optionalText(body['contextDir'], 'contextDir');
    if (!name || !dockerfile || !contextDir) throw new InvalidArgumentError('name, dockerfile (its text) and contextDir (a directory on the server) are required');
    const job = await templates.startBuild({
      name,
      source: { kind: 'dockerfile', text: dockerfile },
      contextDir,
      buildArgs: stringMap(body['buildArgs'], 'buildArgs'),
      startCmd: optionalText(body['startCmd'], 'startCmd'),
      readyCmd: optionalText(body['readyCmd'], 'readyCmd'),
      limits: parseLimits(body),
    });
    sendJson(response, 202, jobView(job));
  });
  router.add('GET', '/admin/templates/builds/:buildID', async ({ response, params }) => {
    sendJson(response, 200, jobView(templates.job(params['buildID'] ?? '')));
  });
  /** The build log as plain text: what was logged so far, then live lines until the build ends. */
  router.add('GET', '/admin/templates/builds/:buildID/logs', async ({ response, params }) => {
    const job = templates.job(params['buildID'] ?? '');
    response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-cache' });
    for (const line of job.lines) response.write(`${line}\n`);
    if (job.status !== 'building') {
      response.end();
      return;
    }
    await new Promise<void>((resolve) => {
      const listener = (line: string | undefined): void => {
        if (line === undefined) {
          response.end();
          resolve();
        } else response.write(`${line}\n`);
      };
      job.listeners.add(listener);
      response.on('close', () => {
        job.listeners.delete(listener);
        resolve();
      });
    });
  });
}
