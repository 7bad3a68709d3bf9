// The per-sandbox metadata service at http://169.254.169.254 (the firewall sends it here). A sandbox is known by
// its bridge address, which it cannot change; it first asks for a session token (PUT, like a cloud instance's
// IMDSv2), then reads its granted secrets with that token. Values are never logged or written anywhere.
import crypto from 'node:crypto';
import http from 'node:http';
import type { Logger } from '../core/logger.js';
import type { SandboxNetworkEntry, SandboxNetworkRegistry } from './sandbox-network-registry.js';

export const METADATA_TOKEN_HEADER = 'x-hearth-metadata-token';
export const METADATA_TOKEN_TTL_HEADER = 'x-hearth-metadata-token-ttl-seconds';
const MAX_TOKEN_TTL_SECONDS = 6 * 60 * 60;

export interface MetadataServiceOptions {
  registry: SandboxNetworkRegistry;
  /** The value of a secret granted to the sandbox, or undefined when not granted, revoked or deleted. */
  secretValue: (sandbox: SandboxNetworkEntry, name: string) => Promise<string | undefined>;
  log: Logger;
}

function send(response: http.ServerResponse, status: number, body: string, contentType = 'text/plain; charset=utf-8'): void {
  response.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

export class MetadataService {
  private readonly server = http.createServer((request, response) => void this.handle(request, response).catch(() => send(response, 500, 'internal error\n')));

  constructor(private readonly options: MetadataServiceOptions) {}

  async listen(host: string): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, host, () => resolve());
    });
    const address = this.server.address();
    return typeof address === 'object' && address ? address.port : 0;
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const source = request.socket.remoteAddress?.replace(/^::ffff:/, '');
    const sandbox = this.options.registry.get(source);
    if (!sandbox || !source) return send(response, 403, 'not a sandbox\n');
    // a request relayed through a proxy inside the sandbox is not the sandbox's own code asking
    if (request.headers['x-forwarded-for'] !== undefined) return send(response, 403, 'forwarded requests are refused\n');
    const url = new URL(request.url ?? '/', 'http://metadata');
    if (url.pathname === '/latest/api/token') {
      if (request.method !== 'PUT') return send(response, 405, 'use PUT to get a token\n');
      const ttlSeconds = Number(request.headers[METADATA_TOKEN_TTL_HEADER] ?? MAX_TOKEN_TTL_SECONDS);
      if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > MAX_TOKEN_TTL_SECONDS) {
        return send(response, 400, `${METADATA_TOKEN_TTL_HEADER} must be 1-${MAX_TOKEN_TTL_SECONDS}\n`);
      }
      const token = crypto.randomBytes(24).toString('base64url');
      this.options.registry.issueToken(source, token, ttlSeconds * 1000);
      return send(response, 200, token);
    }
    if (request.method !== 'GET') return send(response, 405, 'method not allowed\n');
    const token = request.headers[METADATA_TOKEN_HEADER];
    if (typeof token !== 'string' || !this.options.registry.tokenValid(source, token)) {
      return send(response, 401, `missing or expired token: PUT /latest/api/token, then send it as ${METADATA_TOKEN_HEADER}\n`);
    }
    if (url.pathname === '/latest/meta-data/sandbox-id') return send(response, 200, sandbox.sandboxId);
    if (url.pathname === '/latest/secrets' || url.pathname === '/latest/secrets/') {
      return send(response, 200, `${JSON.stringify([...sandbox.secrets].sort())}\n`, 'application/json');
    }
    const match = /^\/latest\/secrets\/([A-Za-z_][A-Za-z0-9_.-]*)$/.exec(url.pathname);
    if (match?.[1]) {
      const value = await this.options.secretValue(sandbox, match[1]);
      if (value === undefined) return send(response, 404, `secret "${match[1]}" is not granted to this sandbox\n`);
      return send(response, 200, value);
    }
    return send(response, 404, 'paths: PUT /latest/api/token, GET /latest/secrets, /latest/secrets/NAME, /latest/meta-data/sandbox-id\n');
  }

  close(): void {
    this.server.close();
  }
}
