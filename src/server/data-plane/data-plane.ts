// Routes requests carrying `E2b-Sandbox-Id` to a sandbox: checks its access token, picks the user, serves envd's API.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { ServerConfig } from '../../config/server-config.js';
import type { SandboxService } from '../../core/sandbox-service.js';
import { InvalidArgumentError, SandboxNotFoundError, UnauthenticatedError } from '../../errors/hearth-error.js';
import { sendEmpty, sendError, sendJson } from '../http-io.js';
import { sendUnaryError, serveRpc, type RpcMethod } from './connect-protocol.js';
import { fileSignature, verifyFileSignature } from './access-signature.js';
import { downloadFile, uploadFiles } from './files-route.js';
import { createFilesystemService } from './filesystem-service.js';
import { createProcessService } from './process-service.js';
import type { SandboxCallContext } from './sandbox-call-context.js';

const DEFAULT_USER = 'user';
const USERNAME_PATTERN = /^[a-z_][a-z0-9_-]{0,31}$/;

function userFromAuthorization(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Basic\s+(.+)$/i.exec(header.trim());
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const user = decoded.split(':')[0];
  return user || undefined;
}

function checkUser(user: string): string {
  if (!USERNAME_PATTERN.test(user)) throw new InvalidArgumentError(`"${user}" is not a valid user name`);
  return user;
}

function tokensMatch(given: string | undefined, expected: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Signed file URLs carry no sandbox header when opened by a browser or curl: find the one sandbox
 * whose access token produced the signature.
 */
export function sandboxForSignedUrl(sandboxes: SandboxService, url: URL, method: string | undefined): string | undefined {
  const signature = url.searchParams.get('signature');
  if (url.pathname !== '/files' || !signature) return undefined;
  const operation = method === 'GET' ? 'read' : 'write';
  const expiration = url.searchParams.get('signature_expiration');
  const expirationSeconds = expiration === null ? undefined : Number(expiration);
  for (const live of sandboxes.liveSandboxes()) {
    const expected = fileSignature(url.searchParams.get('path') ?? '', operation, url.searchParams.get('username') ?? '', live.record.accessToken, expirationSeconds);
    if (expected === signature) return live.record.id;
  }
  return undefined;
}

export function createDataPlane(sandboxes: SandboxService, config: ServerConfig) {
  const services: Record<string, Record<string, RpcMethod<SandboxCallContext>>> = {
    'process.Process': createProcessService(),
    'filesystem.Filesystem': createFilesystemService(),
  };

  return async function serveDataPlane(sandboxId: string, request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    const rpc = /^\/([a-zA-Z.]+)\/([A-Za-z]+)$/.exec(url.pathname);
    const fail = (error: unknown): void => (rpc ? sendUnaryError(response, error) : sendError(response, error));
    let live;
    try {
      live = sandboxes.getLive(sandboxId);
    } catch (error) {
      if (error instanceof SandboxNotFoundError) {
        // E2B's edge answers 502 for a sandbox that is gone; the SDK turns that into a timeout/not-found error.
        request.resume();
        sendJson(response, 502, { code: 502, message: `sandbox ${sandboxId} is not running: it was killed or its timeout expired`, sandboxId, errorCode: error.code });
        return;
      }
      throw error;
    }
    if (url.pathname === '/health' && request.method === 'GET') {
      sendEmpty(response, 204);
      return;
    }
    const signature = url.searchParams.get('signature');
    const isFiles = url.pathname === '/files';
    const tokenHeader = request.headers['x-access-token'];
    const authorised = tokensMatch(typeof tokenHeader === 'string' ? tokenHeader : undefined, live.record.accessToken);
    if (!authorised && !(isFiles && signature)) {
      request.resume();
      fail(new UnauthenticatedError(tokenHeader ? 'the sandbox access token is not valid for this sandbox' : 'missing X-Access-Token: this sandbox requires its envdAccessToken'));
      return;
    }
    try {
      const user = checkUser(userFromAuthorization(request.headers.authorization) ?? url.searchParams.get('username') ?? DEFAULT_USER);
      if (isFiles) {
        const path = url.searchParams.get('path');
        const operation = request.method === 'GET' ? 'read' : 'write';
        if (!authorised && signature) {
          verifyFileSignature({ signature, expiration: url.searchParams.get('signature_expiration'), path: path ?? '', operation, user: url.searchParams.get('username') ?? '', accessToken: live.record.accessToken, nowMs: Date.now() });
        }
        if (request.method === 'GET') {
          if (!path) throw new InvalidArgumentError('the `path` query parameter is required');
          await downloadFile(live, user, path, response);
        } else if (request.method === 'POST') {
          await uploadFiles(live, user, path, request, response, config.maxUploadBytes);
        } else {
          throw new InvalidArgumentError(`method ${request.method} is not allowed on /files`);
        }
        return;
      }
      if (rpc && request.method === 'POST') {
        const method = services[rpc[1] ?? '']?.[rpc[2] ?? ''];
        if (method) {
          await serveRpc(request, response, method, { live, user }, config.maxJsonBodyBytes);
          return;
        }
      }
      request.resume();
      sendJson(response, 404, { code: 404, message: `no such sandbox endpoint: ${request.method} ${url.pathname}`, errorCode: 'route_not_found' });
    } catch (error) {
      if (!request.complete) response.setHeader('connection', 'close');
      fail(error);
    }
  };
}
