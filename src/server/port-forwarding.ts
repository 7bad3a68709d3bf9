// Reaching a port a process listens on inside a sandbox: `sbx.getHost(port)` resolves to
// `<port>-<sandboxId>.<domain>`, which lands here (as do requests with E2b-Sandbox-Id and a port other than
// envd's). HTTP requests and WebSocket upgrades are relayed to the sandbox's bridge address; a sandbox created
// with `allowPublicTraffic: false` also needs its traffic access token.
import http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { SandboxService } from '../core/sandbox-service.js';
import { InvalidArgumentError, PermissionDeniedError, SandboxUnavailableError } from '../errors/hearth-error.js';

export const ENVD_PORT = 49983;
export const TRAFFIC_TOKEN_HEADER = 'e2b-traffic-access-token';
const HOST_PATTERN = /^(\d{1,5})-([a-z0-9]{6,64})\./i;
const HOP_HEADERS = new Set(['e2b-sandbox-id', 'e2b-sandbox-port', TRAFFIC_TOKEN_HEADER]);

export interface PortTarget {
  sandboxId: string;
  port: number;
}

/** The sandbox port a request is for, if it is for one (envd's own port is the data plane, not this). */
export function portTarget(request: http.IncomingMessage): PortTarget | undefined {
  const header = request.headers['e2b-sandbox-id'];
  const portHeader = request.headers['e2b-sandbox-port'];
  if (typeof header === 'string' && typeof portHeader === 'string' && Number(portHeader) !== ENVD_PORT) {
    return { sandboxId: header, port: Number(portHeader) };
  }
  const match = HOST_PATTERN.exec(request.headers.host ?? '');
  if (match?.[1] && match[2] && Number(match[1]) !== ENVD_PORT) return { sandboxId: match[2].toLowerCase(), port: Number(match[1]) };
  return undefined;
}

/** The sandbox's address after checking the port and, for a private sandbox, the traffic token. */
function resolveTarget(sandboxes: SandboxService, target: PortTarget, request: http.IncomingMessage): string {
  if (!Number.isInteger(target.port) || target.port < 1 || target.port > 65535) throw new InvalidArgumentError(`port ${target.port} is not a TCP port`);
  const { network } = sandboxes.get(target.sandboxId);
  if (!network.allowPublicTraffic && request.headers[TRAFFIC_TOKEN_HEADER] !== network.trafficAccessToken) {
    throw new PermissionDeniedError(`sandbox ${target.sandboxId} was created with allowPublicTraffic: false: send its trafficAccessToken in the ${TRAFFIC_TOKEN_HEADER} header`);
  }
  if (!network.address) throw new SandboxUnavailableError(`sandbox ${target.sandboxId} has no network address: the server runs with --network none`);
  return network.address;
}

function forwardedHeaders(request: http.IncomingMessage): string[] {
  const headers: string[] = [];
  for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) {
    const name = request.rawHeaders[i] ?? '';
    if (!HOP_HEADERS.has(name.toLowerCase())) headers.push(name, request.rawHeaders[i + 1] ?? '');
  }
  return headers;
}

export function forwardRequest(sandboxes: SandboxService, target: PortTarget, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
  const address = resolveTarget(sandboxes, target, request);
  return new Promise<void>((resolve, reject) => {
    const upstream = http.request({ host: address, port: target.port, method: request.method, path: request.url, headers: forwardedHeaders(request), setHost: false, agent: false });
    upstream.on('response', (upstreamResponse) => {
      response.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.statusMessage, upstreamResponse.rawHeaders);
      upstreamResponse.pipe(response);
      upstreamResponse.on('end', () => resolve());
      upstreamResponse.on('error', () => resolve());
    });
    upstream.on('error', (error: NodeJS.ErrnoException) => {
      if (response.headersSent) {
        response.destroy();
        resolve();
        return;
      }
      reject(
        new SandboxUnavailableError(
          error.code === 'ECONNREFUSED'
            ? `nothing listens on port ${target.port} in sandbox ${target.sandboxId} (a server must bind 0.0.0.0, not 127.0.0.1)`
            : `port ${target.port} of sandbox ${target.sandboxId} failed: ${error.message}`,
          { cause: error },
        ),
      );
    });
    request.pipe(upstream);
  });
}

/** WebSocket (or any HTTP upgrade): the request head is replayed to the sandbox, then bytes flow both ways. */
export function forwardUpgrade(sandboxes: SandboxService, target: PortTarget, request: http.IncomingMessage, socket: Duplex, head: Buffer): void {
  let address: string;
  try {
    address = resolveTarget(sandboxes, target, request);
  } catch (error) {
    const status = error instanceof PermissionDeniedError ? '403 Forbidden' : '502 Bad Gateway';
    socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    return;
  }
  const upstream = net.connect({ host: address, port: target.port }, () => {
    const headers = forwardedHeaders(request);
    let text = `${request.method} ${request.url} HTTP/1.1\r\n`;
    for (let i = 0; i + 1 < headers.length; i += 2) text += `${headers[i]}: ${headers[i + 1]}\r\n`;
    upstream.write(`${text}\r\n`);
    if (head.length > 0) upstream.write(head);
    upstream.pipe(socket);
    socket.pipe(upstream);
  });
  upstream.on('error', () => socket.destroy());
  socket.on('error', () => upstream.destroy());
}
