// The HTTP edge: one port serves the REST control plane (X-API-Key) and the sandbox data plane (E2b-Sandbox-Id).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ServerConfig } from '../config/server-config.js';
import type { Logger } from '../core/logger.js';
import type { SandboxService } from '../core/sandbox-service.js';
import type { TemplateService } from '../core/template-service.js';
import { HearthError, toHearthError } from '../errors/hearth-error.js';
import type { Store } from '../store/store.js';
import type { ApiKeyAuth } from './api-key-auth.js';
import { registerSandboxRoutes } from './control-plane/sandbox-routes.js';
import { registerPauseRoutes } from './control-plane/pause-routes.js';
import type { SnapshotServices } from '../core/snapshot-services.js';
import { registerTemplateRoutes } from './control-plane/template-routes.js';
import { registerSnapshotRoutes } from './control-plane/snapshot-routes.js';
import { createUploadStore, isTemplateUpload, registerSdkTemplateRoutes, serveTemplateUpload } from './control-plane/sdk-template-routes.js';
import { registerAdminRoutes } from './control-plane/admin-routes.js';
import { registerBenchResultRoutes } from './control-plane/bench-result-routes.js';
import { isDashboardAsset, serveDashboardAsset } from './dashboard-assets.js';
import { createDataPlane, sandboxForSignedUrl } from './data-plane/data-plane.js';
import { sendError, sendJson } from './http-io.js';
import { Router } from './router.js';
import { forwardRequest, forwardUpgrade, portTarget } from './port-forwarding.js';
import { registerNetworkRoutes } from './control-plane/network-routes.js';
import { registerSecretRoutes } from './control-plane/secret-routes.js';
import type { SecretService } from '../secrets/secret-service.js';
import type { Duplex } from 'node:stream';

export interface HttpServerDeps {
  config: ServerConfig;
  sandboxes: SandboxService;
  store: Store;
  auth: ApiKeyAuth;
  templates: TemplateService;
  secrets: SecretService;
  log: Logger;
  /** Pause/resume, fork and persistent snapshots; absent: those endpoints are not offered. */
  snapshots?: SnapshotServices;
}

export function createHttpServer(deps: HttpServerDeps): http.Server {
  const router = new Router();
  if (deps.snapshots) registerPauseRoutes(router, { sandboxes: deps.sandboxes, ...deps.snapshots }, deps.config);
  registerSandboxRoutes(router, deps.sandboxes, deps.config);
  registerNetworkRoutes(router, deps.sandboxes, deps.config);
  registerSecretRoutes(router, deps.secrets, deps.config);
  if (deps.snapshots) registerSnapshotRoutes(router, deps.snapshots.saved, deps.config);
  registerTemplateRoutes(router, deps.store, deps.templates, deps.config, deps.snapshots?.saved);
  const uploads = createUploadStore(deps.config);
  registerSdkTemplateRoutes(router, deps.templates, uploads, deps.config);
  registerAdminRoutes(router, deps.sandboxes, deps.config);
  registerBenchResultRoutes(router, deps.config.dataDir);
  const serveDataPlane = createDataPlane(deps.sandboxes, deps.config);

  const server = http.createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }, (request, response) => {
    void handle(request, response).catch((error: unknown) => {
      deps.log.error(`unhandled failure on ${request.method} ${request.url}: ${toHearthError(error).message}`);
      sendError(response, error);
    });
  });

  async function handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://hearth.local');
    const forwarded = portTarget(request);
    if (forwarded) {
      try {
        await forwardRequest(deps.sandboxes, forwarded, request, response);
      } catch (error) {
        request.resume();
        sendError(response, error);
      }
      return;
    }
    const sandboxId = request.headers['e2b-sandbox-id'] ?? sandboxForSignedUrl(deps.sandboxes, url, request.method);
    if (typeof sandboxId === 'string' && sandboxId.length > 0) {
      await serveDataPlane(sandboxId, request, response, url);
      return;
    }
    if (isTemplateUpload(request.method, url.pathname)) {
      try {
        await serveTemplateUpload(uploads, request, response, url);
      } catch (error) {
        if (!request.complete) response.setHeader('connection', 'close');
        sendError(response, error);
      }
      return;
    }
    if (isDashboardAsset(request.method, url.pathname)) {
      await serveDashboardAsset(url.pathname, response);
      return;
    }
    if (url.pathname === '/health') {
      sendJson(response, 200, { status: 'ok', liveSandboxes: deps.sandboxes.liveCount });
      return;
    }
    try {
      const match = router.match(request.method ?? 'GET', url.pathname);
      if (!('handler' in match)) {
        request.resume();
        const status = match.methodMismatch ? 405 : 404;
        sendJson(response, status, { code: status, message: `${request.method} ${url.pathname} is not a Hearth API route`, errorCode: 'route_not_found' });
        return;
      }
      const key = request.headers['x-api-key'];
      await deps.auth.verify(typeof key === 'string' ? key : undefined);
      await match.handler({ request, response, url, params: match.params });
    } catch (error) {
      if (!request.complete) response.setHeader('connection', 'close');
      if (!(error instanceof HearthError)) deps.log.error(`${request.method} ${url.pathname}: ${toHearthError(error).message}`);
      sendError(response, error);
    }
  }

  server.on('upgrade', (request: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const target = portTarget(request);
    if (target) forwardUpgrade(deps.sandboxes, target, request, socket, head);
    else socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
  });

  return server;
}

export function listen(server: http.Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}
