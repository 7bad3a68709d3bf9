// A sandbox's network after creation: E2B's network update, Hearth's egress audit log and secret revocation.
import type { ServerConfig } from '../../config/server-config.js';
import type { SandboxService } from '../../core/sandbox-service.js';
import { InvalidArgumentError } from '../../errors/hearth-error.js';
import { readJson, sendEmpty, sendJson } from '../http-io.js';
import type { Router } from '../router.js';
import { parseNetworkUpdate } from './network-parsing.js';

const DEFAULT_AUDIT_LIMIT = 100;
const MAX_AUDIT_LIMIT = 10_000;

export function registerNetworkRoutes(router: Router, sandboxes: SandboxService, config: ServerConfig): void {
  router.add('PUT', '/sandboxes/:sandboxID/network', async ({ request, response, params }) => {
    const update = parseNetworkUpdate(await readJson(request, config.maxJsonBodyBytes));
    await sandboxes.updateNetwork(params['sandboxID'] ?? '', update);
    sendEmpty(response, 204);
  });

  router.add('GET', '/sandboxes/:sandboxID/egress', async ({ response, params, url }) => {
    const limitText = url.searchParams.get('limit');
    const limit = limitText === null ? DEFAULT_AUDIT_LIMIT : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_AUDIT_LIMIT) throw new InvalidArgumentError(`limit must be an integer from 1 to ${MAX_AUDIT_LIMIT}`);
    const events = await sandboxes.egressEvents(params['sandboxID'] ?? '', limit);
    sendJson(response, 200, events.map((event) => ({ ...event, at: new Date(event.atMs).toISOString() })));
  });

  router.add('DELETE', '/sandboxes/:sandboxID/secrets/:name', async ({ response, params }) => {
    await sandboxes.revokeSecret(params['sandboxID'] ?? '', params['name'] ?? '');
    sendEmpty(response, 204);
  });
}
