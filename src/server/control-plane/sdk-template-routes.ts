// The e2b SDK's template workflow (Template builder → Template.build → Sandbox.create): request a build,
// upload COPY files to signed URLs, trigger the build, poll its status and logs, check aliases.
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ServerConfig } from '../../config/server-config.js';
import type { TemplateService } from '../../core/template-service.js';
import { InvalidArgumentError } from '../../errors/hearth-error.js';
import { planSdkBuild, type SdkTemplateDefinition } from '../../templates/builder/sdk-steps.js';
import { UploadStore } from '../../templates/builder/upload-store.js';
import { readJson, sendJson } from '../http-io.js';
import type { Router } from '../router.js';
import { asObject } from './request-parsing.js';
import { parseLimits } from './limit-parsing.js';

const MAX_UPLOAD_BYTES = 2 * 1024 * 1024 * 1024;
const UPLOAD_PATH = /^\/template-uploads\/([a-f0-9]+)$/;

export function createUploadStore(config: ServerConfig): UploadStore {
  return new UploadStore(path.join(config.templatesDir, 'uploads'));
}

/** Uploads carry their own signature instead of the API key (the SDK PUTs to the URL it was given). */
export function isTemplateUpload(method: string | undefined, pathname: string): boolean {
  return method === 'PUT' && UPLOAD_PATH.test(pathname);
}

export async function serveTemplateUpload(uploads: UploadStore, request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
  const hash = UPLOAD_PATH.exec(url.pathname)?.[1] ?? '';
  await uploads.verify(hash, url.searchParams.get('expires'), url.searchParams.get('signature'));
  await uploads.save(hash, request, MAX_UPLOAD_BYTES);
  sendJson(response, 201, { stored: hash });
}

export function registerSdkTemplateRoutes(router: Router, templates: TemplateService, uploads: UploadStore, config: ServerConfig): void {
  router.add('POST', '/v3/templates', async ({ request, response }) => {
    const body = asObject(await readJson(request, config.maxJsonBodyBytes), 'request body');
    const name = body['name'] ?? body['alias'];
    if (typeof name !== 'string') throw new InvalidArgumentError('name is required');
    const { buildId } = templates.reserveBuild(name, parseLimits(body));
    sendJson(response, 202, { templateID: name, buildID: buildId, aliases: [name], names: [name], tags: [], public: false });
  });

  router.add('GET', '/templates/:templateID/files/:hash', async ({ request, response, params }) => {
    const hash = UploadStore.checkHash(params['hash'] ?? '');
    const present = await uploads.has(hash);
    const origin = `http://${request.headers.host ?? `${config.host}:${config.port}`}`;
    sendJson(response, 201, present ? { present: true } : { present: false, url: `${origin}${await uploads.signedPath(hash)}` });
  });

  router.add('POST', '/v2/templates/:templateID/builds/:buildID', async ({ request, response, params }) => {
    const name = params['templateID'] ?? '';
    const buildId = params['buildID'] ?? '';
    templates.reservation(buildId, name);
    const definition = asObject(await readJson(request, config.maxJsonBodyBytes), 'template') as unknown as SdkTemplateDefinition;
    if (!Array.isArray(definition.steps)) throw new InvalidArgumentError('template.steps must be a list');
    const plan = planSdkBuild(definition);
    const contextDir = path.join(config.templatesDir, 'uploads', `context-${buildId}-${randomBytes(4).toString('hex')}`);
    await uploads.unpackAll(plan.copyHashes, contextDir);
    await templates.startBuild(
      { name, source: { kind: 'instructions', instructions: plan.instructions }, contextDir, buildArgs: {}, startCmd: plan.startCmd, readyCmd: plan.readyCmd, limits: {} },
      buildId,
    );
    response.writeHead(202, { 'content-length': '0' });
    response.end();
  });

  router.add('GET', '/templates/:templateID/builds/:buildID/status', async ({ response, params, url }) => {
    const job = templates.job(params['buildID'] ?? '');
    const offset = Math.max(0, Number(url.searchParams.get('logsOffset') ?? '0') || 0);
    const lines = job.lines.slice(offset);
    const failed = job.status === 'failed';
    sendJson(response, 200, {
      buildID: job.buildId,
      templateID: job.templateId,
      status: job.status === 'failed' ? 'error' : job.status,
      logs: lines,
      logEntries: lines.map((message, index) => ({
        timestamp: new Date(job.lineTimesMs[offset + index] ?? Date.now()).toISOString(),
        level: failed && offset + index === job.lines.length - 1 ? 'error' : 'info',
        message,
      })),
      ...(failed ? { reason: { message: job.error ?? 'build failed' } } : {}),
    });
  });

  router.add('GET', '/templates/aliases/:alias', async ({ response, params }) => {
    const template = await templates.get(params['alias'] ?? '');
    sendJson(response, 200, { templateID: template.id, public: false });
  });
}
