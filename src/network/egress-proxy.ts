// The egress proxy: every TCP connection a sandbox opens is redirected here by the firewall. It finds where the
// connection was going, reads the TLS server name or HTTP Host, checks that name against DNS (so naming an
// allowed host while dialling another address fails), decides by the sandbox's policy, writes the audit log,
// and relays — injecting configured headers into plain-HTTP requests.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import type { Logger } from '../core/logger.js';
import type { EgressAudit } from './egress-audit.js';
import type { EgressCertificateAuthority } from './egress-certificate-authority.js';
import { decideConnection, type EgressVerdict } from './egress-policy.js';
import { expandHeaders, MissingSecretError, rulesForHost } from './header-rules.js';
import type { Cidr } from './ipv4.js';
import { originalDestination, type Destination } from './original-destination.js';
import type { SandboxNetworkEntry, SandboxNetworkRegistry } from './sandbox-network-registry.js';
import { sniff, type SniffResult } from './traffic-sniffer.js';
import type { UpstreamResolver } from './upstream-resolver.js';

/** How long to wait for a client's first bytes; protocols where the server speaks first go on without them. */
const SNIFF_TIMEOUT_MS = 1000;
const UPSTREAM_CONNECT_TIMEOUT_MS = 10_000;

export interface EgressProxyOptions {
  registry: SandboxNetworkRegistry;
  resolver: UpstreamResolver;
  audit: EgressAudit;
  sandboxSubnet: Cidr;
  /** A granted secret's value for header injection, or undefined when not granted or revoked. */
  secretValue: (sandbox: SandboxNetworkEntry, name: string) => Promise<string | undefined>;
  /** Signs certificates for HTTPS hosts with header rules, so their requests can be read and changed. */
  certificateAuthority: EgressCertificateAuthority;
  /** CA certificates (PEM) upstream servers are verified against when the proxy terminates TLS. */
  upstreamCaPems: string[];
  log: Logger;
}

interface HttpRelay {
  sandbox: SandboxNetworkEntry;
  destination: Destination;
  /** Set when the proxy terminated the sandbox's TLS: the name to verify the upstream server against. */
  tlsServerName?: string;
}

/** A stream over a socket whose first bytes were already read, so TLS can be layered on all of it. */
function replayingStream(socket: net.Socket, opening: Buffer): Duplex {
  const stream = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      socket.write(chunk, callback);
    },
    final(callback) {
      socket.end(callback);
    },
    destroy(error, callback) {
      socket.destroy();
      callback(error);
    },
  });
  stream.push(opening);
  socket.on('data', (chunk: Buffer) => {
    if (!stream.push(chunk)) socket.pause();
  });
  socket.on('end', () => stream.push(null));
  socket.on('close', () => stream.destroy());
  return stream;
}

function readOpening(socket: net.Socket): Promise<{ data: Buffer; sniffed: SniffResult }> {
  return new Promise((resolve) => {
    let data = Buffer.alloc(0);
    const done = (): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', done);
      socket.pause();
      resolve({ data, sniffed: sniff(data) });
    };
    const onData = (chunk: Buffer): void => {
      data = Buffer.concat([data, chunk]);
      if (!sniff(data).incomplete) done();
    };
    const timer = setTimeout(done, SNIFF_TIMEOUT_MS);
    socket.on('data', onData);
    socket.once('end', done);
  });
}

export class EgressProxy {
  private readonly server = net.createServer({ pauseOnConnect: false }, (socket) => void this.handle(socket));
  private readonly httpRelays = new WeakMap<net.Socket, HttpRelay>();
  private readonly httpServer = http.createServer((request, response) => void this.relayRequest(request, response));
  private port = 0;

  constructor(private readonly options: EgressProxyOptions) {
    this.httpServer.on('clientError', (_error, socket) => socket.destroy());
  }

  async listen(host: string): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, host, () => resolve());
    });
    const address = this.server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
    return this.port;
  }

  private async handle(client: net.Socket): Promise<void> {
    client.on('error', () => undefined);
    const source = client.remoteAddress?.replace(/^::ffff:/, '');
    const sandbox = this.options.registry.get(source);
    const destination = source && client.remotePort ? await originalDestination(source, client.remotePort, this.port).catch(() => undefined) : undefined;
    if (!sandbox || !source || !destination) {
      client.destroy();
      return;
    }
    const { data, sniffed } = await readOpening(client);
    const host = sniffed.host && net.isIP(sniffed.host) === 0 ? sniffed.host : undefined;
    const verdict = await this.decide(sandbox, source, destination, host, sniffed);
    this.options.audit({
      sandboxId: sandbox.sandboxId,
      action: verdict.allowed ? 'allow' : 'deny',
      protocol: sniffed.protocol === 'other' ? 'tcp' : sniffed.protocol,
      host: host ?? this.options.registry.namesFor(source, destination.address)[0] ?? null,
      address: destination.address,
      port: destination.port,
      reason: verdict.reason,
    });
    if (!verdict.allowed) {
      client.resetAndDestroy();
      return;
    }
    if (sniffed.protocol === 'tls' && host && rulesForHost(sandbox.rules, host)) {
      await this.interceptTls(client, data, { sandbox, destination, tlsServerName: host });
      return;
    }
    if (sniffed.protocol === 'http' && host && rulesForHost(sandbox.rules, host)) {
      this.httpRelays.set(client, { sandbox, destination });
      client.unshift(data);
      this.httpServer.emit('connection', client);
      client.resume();
      return;
    }
    this.relayRaw(client, data, destination);
  }

  private async decide(sandbox: SandboxNetworkEntry, source: string, destination: Destination, host: string | undefined, sniffed: SniffResult): Promise<EgressVerdict> {
    if (host) {
      const lookedUp = this.options.registry.namesFor(source, destination.address).includes(host);
      if (!lookedUp) {
        const resolved = await this.options.resolver.resolveA(host);
        if (!resolved.addresses.includes(destination.address)) {
          const what = sniffed.protocol === 'tls' ? 'TLS server name' : 'HTTP Host';
          return { allowed: false, reason: `${what} ${host} does not resolve to ${destination.address}` };
        }
      }
      return decideConnection(sandbox.policy, destination.address, [host], this.options.sandboxSubnet);
    }
    return decideConnection(sandbox.policy, destination.address, this.options.registry.namesFor(source, destination.address), this.options.sandboxSubnet);
  }

  /** Terminates the sandbox's TLS with a certificate from Hearth's CA (which the sandbox trusts) and serves HTTP inside. */
  private async interceptTls(client: net.Socket, opening: Buffer, relay: HttpRelay & { tlsServerName: string }): Promise<void> {
    let leaf;
    try {
      leaf = await this.options.certificateAuthority.leafFor(relay.tlsServerName);
    } catch (error) {
      this.options.log.warn(`egress proxy: no certificate for ${relay.tlsServerName}: ${(error as Error).message}`);
      client.resetAndDestroy();
      return;
    }
    const secure = new tls.TLSSocket(replayingStream(client, opening), { isServer: true, key: leaf.key, cert: leaf.cert, ALPNProtocols: ['http/1.1'] });
    secure.on('error', () => client.destroy());
    this.httpRelays.set(secure as unknown as net.Socket, relay);
    this.httpServer.emit('connection', secure);
  }

  private relayRaw(client: net.Socket, opening: Buffer, destination: Destination): void {
    const upstream = net.connect({ host: destination.address, port: destination.port, timeout: UPSTREAM_CONNECT_TIMEOUT_MS });
    upstream.once('timeout', () => upstream.destroy());
    upstream.once('connect', () => {
      upstream.setTimeout(0);
      upstream.setNoDelay(true);
      client.setNoDelay(true);
      if (opening.length > 0) upstream.write(opening);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    upstream.on('error', () => client.resetAndDestroy());
    client.on('error', () => upstream.destroy());
    client.on('close', () => upstream.destroy());
  }

  /** A plain-HTTP request to a host with header rules: forwarded with the rule's headers set or replaced. */
  private async relayRequest(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const relay = this.httpRelays.get(request.socket);
    const host = (request.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
    const transforms = relay ? rulesForHost(relay.sandbox.rules, host) : undefined;
    if (!relay) {
      response.writeHead(502).end();
      return;
    }
    let injected = new Map<string, string>();
    try {
      if (transforms) injected = await expandHeaders(transforms, (name) => this.options.secretValue(relay.sandbox, name));
    } catch (error) {
      const reason = error instanceof MissingSecretError ? error.message : 'header rule failed';
      this.options.audit({ sandboxId: relay.sandbox.sandboxId, action: 'deny', protocol: 'http', host, address: relay.destination.address, port: relay.destination.port, reason });
      response.writeHead(403, { 'content-type': 'text/plain' }).end(`hearth egress proxy: ${reason}\n`);
      return;
    }
    const headers: string[] = [];
    for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) {
      const name = request.rawHeaders[i] ?? '';
      if (!injected.has(name.toLowerCase())) headers.push(name, request.rawHeaders[i + 1] ?? '');
    }
    for (const [name, value] of injected) headers.push(name, value);
    const target = { host: relay.destination.address, port: relay.destination.port, method: request.method, path: request.url, headers, setHost: false, agent: false };
    const upstream = relay.tlsServerName
      ? https.request({ ...target, servername: relay.tlsServerName, ca: this.options.upstreamCaPems })
      : http.request(target);
    upstream.on('response', (upstreamResponse) => {
      response.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.statusMessage, upstreamResponse.rawHeaders);
      upstreamResponse.pipe(response);
    });
    upstream.on('error', () => {
      if (!response.headersSent) response.writeHead(502).end();
      else response.destroy();
    });
    request.pipe(upstream);
  }

  close(): void {
    this.server.close();
    this.httpServer.close();
  }
}
