// Hearth's secrets API: set, list (names only, never values) and delete (which revokes everywhere at once).
import type { ServerConfig } from '../../config/server-config.js';
import type { SecretService } from '../../secrets/secret-service.js';
import { readJson, sendEmpty, sendJson } from '../http-io.js';
import type { Router } from '../router.js';
import { asObject } from './request-parsing.js';

export function registerSecretRoutes(router: Router, secrets: SecretService, config: ServerConfig): void {
  router.add('GET', '/secrets', async ({ response }) => {
    sendJson(response, 200, await secrets.list());
  });

  router.add('PUT', '/secrets/:name', async ({ request, response, params }) => {
    const body = asObject(await readJson(request, config.maxJsonBodyBytes), 'request body');
    sendJson(response, 200, await secrets.set(params['name'] ?? '', body['value']));
  });

  router.add('DELETE', '/secrets/:name', async ({ response, params }) => {
    await secrets.delete(params['name'] ?? '');
    sendEmpty(response, 204);
  });
}
