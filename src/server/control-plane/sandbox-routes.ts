// E2B's REST control plane: create, get, list (v1, v2), kill, timeout, refresh, connect.
import type { ServerConfig } from '../../config/server-config.js';
import type { SandboxService } from '../../core/sandbox-service.js';
import { readJson, sendEmpty, sendJson } from '../http-io.js';
import type { RouteContext, Router } from '../router.js';
import { asObject, parseCreate, parseList, timeoutSeconds } from './request-parsing.js';
import { createdSandboxView, listedSandboxView, sandboxDetailView } from './sandbox-views.js';
import { InvalidArgumentError } from '../../errors/hearth-error.js';
import { TOOLS_MOUNT_PATH, parseToolDefinitions } from '../../core/tool-definitions.js';

export function registerSandboxRoutes(router: Router, sandboxes: SandboxService, config: ServerConfig): void {
  const create = async ({ request, response }: RouteContext): Promise<void> => {
    const command = parseCreate(await readJson(request, config.maxJsonBodyBytes), config.defaultTimeoutMs);
    sandboxes.checkTimeout(command.timeoutMs);
    const record = await sandboxes.create(command);
    sendJson(response, 201, createdSandboxView(record, config.sandboxDomain));
  };
  router.add('POST', '/sandboxes', create);
  router.add('POST', '/v2/sandboxes', create);

  router.add('GET', '/sandboxes', async ({ response, url }) => {
    const page = await sandboxes.list({ ...parseList(url), states: ['running'], limit: undefined, nextToken: undefined });
    sendJson(response, 200, page.sandboxes.map(listedSandboxView));
  });

  router.add('GET', '/v2/sandboxes', async ({ response, url }) => {
    const page = await sandboxes.list(parseList(url));
    sendJson(response, 200, page.sandboxes.map(listedSandboxView), page.nextToken ? { 'x-next-token': page.nextToken } : {});
  });

  router.add('GET', '/sandboxes/:sandboxID', async ({ response, params }) => {
    sendJson(response, 200, sandboxDetailView(sandboxes.get(params['sandboxID'] ?? ''), config.sandboxDomain));
  });

  router.add('DELETE', '/sandboxes/:sandboxID', async ({ response, params }) => {
    await sandboxes.kill(params['sandboxID'] ?? '', 'killed by request');
    sendEmpty(response, 204);
  });

  router.add('POST', '/sandboxes/:sandboxID/timeout', async ({ request, response, params }) => {
    const body = asObject(await readJson(request, config.maxJsonBodyBytes), 'request body');
    const timeoutMs = timeoutSeconds(body['timeout'], 'timeout');
    if (timeoutMs === undefined) throw new InvalidArgumentError('timeout (seconds) is required');
    await sandboxes.setTimeout({ kind: 'set-timeout', sandboxId: params['sandboxID'] ?? '', timeoutMs });
    sendEmpty(response, 204);
  });

  router.add('POST', '/sandboxes/:sandboxID/refreshes', async ({ request, response, params }) => {
    const body = asObject(await readJson(request, config.maxJsonBodyBytes), 'request body');
    const timeoutMs = timeoutSeconds(body['duration'], 'duration') ?? config.defaultTimeoutMs;
    await sandboxes.connect({ kind: 'connect', sandboxId: params['sandboxID'] ?? '', timeoutMs });
    sendEmpty(response, 204);
  });

  router.add('PUT', '/sandboxes/:sandboxID/tools', async ({ request, response, params }) => {
    const body = asObject(await readJson(request, config.maxJsonBodyBytes), 'request body');
    const tools = parseToolDefinitions(body['tools']);
    await sandboxes.setTools(params['sandboxID'] ?? '', tools);
    sendJson(response, 200, { tools: tools.map((tool) => tool.name), path: TOOLS_MOUNT_PATH });
  });

  const connect = async ({ request, response, params }: RouteContext): Promise<void> => {
    const body = asObject(await readJson(request, config.maxJsonBodyBytes), 'request body');
    const record = await sandboxes.connect({ kind: 'connect', sandboxId: params['sandboxID'] ?? '', timeoutMs: timeoutSeconds(body['timeout'], 'timeout') });
    sendJson(response, 200, createdSandboxView(record, config.sandboxDomain));
  };
  router.add('POST', '/sandboxes/:sandboxID/connect', connect);
  router.add('POST', '/v2/sandboxes/:sandboxID/connect', connect);
}
