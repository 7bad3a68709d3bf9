// E2B's pause, resume, connect-resumes-a-paused-sandbox and fork endpoints, plus get and kill of paused sandboxes.
// Registered before the sandbox routes (first match wins), so a paused sandbox is found here and a live one is
// handed to the sandbox service as before.
import type { ServerConfig } from '../../config/server-config.js';
import type { SandboxForkService } from '../../core/sandbox-fork-service.js';
import type { SandboxPauseService } from '../../core/sandbox-pause-service.js';
import type { SandboxService } from '../../core/sandbox-service.js';
import { HTTP_STATUS_BY_CODE } from '../../errors/error-codes.js';
import { InvalidArgumentError } from '../../errors/hearth-error.js';
import { readJson, sendEmpty, sendJson } from '../http-io.js';
import type { RouteContext, Router } from '../router.js';
import { asObject, timeoutSeconds } from './request-parsing.js';
import { createdSandboxView, sandboxDetailView } from './sandbox-views.js';

export interface PauseRouteServices {
  sandboxes: SandboxService;
  pauses: SandboxPauseService;
  forks: SandboxForkService;
}

function memoryFlag(body: Record<string, unknown>): void {
  if (body['memory'] === false) throw new InvalidArgumentError('memory: false (a filesystem-only pause or resume) is not supported: Hearth always keeps memory');
}

export function registerPauseRoutes(router: Router, services: PauseRouteServices, config: ServerConfig): void {
  const { sandboxes, pauses, forks } = services;
  const id = (params: Record<string, string>): string => params['sandboxID'] ?? '';

  router.add('POST', '/sandboxes/:sandboxID/pause', async ({ request, response, params }) => {
    memoryFlag(asObject(await readJson(request, config.maxJsonBodyBytes), 'request body'));
    await pauses.pause(id(params));
    sendEmpty(response, 204);
  });

  const resume = (alreadyRunning: 'conflict' | 'connect') => async ({ request, response, params }: RouteContext): Promise<void> => {
    const body = asObject(await readJson(request, config.maxJsonBodyBytes), 'request body');
    memoryFlag(body);
    const timeoutMs = timeoutSeconds(body['timeout'], 'timeout') || config.defaultTimeoutMs;
    if (alreadyRunning === 'connect' && !(await pauses.settledPausedRecord(id(params)))) {
      const record = await sandboxes.connect({ kind: 'connect', sandboxId: id(params), timeoutMs: timeoutSeconds(body['timeout'], 'timeout') });
      sendJson(response, 200, createdSandboxView(record, config.sandboxDomain));
      return;
    }
    const record = await pauses.resume(id(params), timeoutMs);
    sendJson(response, 201, createdSandboxView(record, config.sandboxDomain));
  };
  router.add('POST', '/sandboxes/:sandboxID/resume', resume('conflict'));
  router.add('POST', '/sandboxes/:sandboxID/connect', resume('connect'));
  router.add('POST', '/v2/sandboxes/:sandboxID/connect', resume('connect'));

  router.add('GET', '/sandboxes/:sandboxID', async ({ response, params }) => {
    const record = (await pauses.settledPausedRecord(id(params))) ?? sandboxes.get(id(params));
    sendJson(response, 200, sandboxDetailView(record, config.sandboxDomain));
  });

  router.add('DELETE', '/sandboxes/:sandboxID', async ({ response, params }) => {
    if (await pauses.settledPausedRecord(id(params))) await pauses.killPaused(id(params), 'killed by request');
    else await sandboxes.kill(id(params), 'killed by request');
    sendEmpty(response, 204);
  });

  router.add('POST', '/sandboxes/:sandboxID/fork', async ({ request, response, params }) => {
    const body = asObject(await readJson(request, config.maxJsonBodyBytes), 'request body');
    const count = body['count'] === undefined ? 1 : body['count'];
    if (typeof count !== 'number') throw new InvalidArgumentError('count must be a number');
    const timeoutMs = timeoutSeconds(body['timeout'], 'timeout') || config.defaultTimeoutMs;
    const results = await forks.fork(id(params), count, timeoutMs);
    sendJson(
      response,
      201,
      results.map((result) =>
        result instanceof Error
          ? { error: { code: HTTP_STATUS_BY_CODE[result.code], message: result.message } }
          : { sandbox: createdSandboxView(result, config.sandboxDomain) },
      ),
    );
  });
}
