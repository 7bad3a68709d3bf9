// Answers names for the sandbox DNS server and the egress proxy: fixed host entries first, then the host's
// own upstream resolvers (from /etc/resolv.conf unless configured).
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { buildQuery, DnsType, readAnswers } from './dns-message.js';

export interface UpstreamServer {
  address: string;
  port: number;
}

export interface ResolvedName {
  addresses: string[];
  ttlSeconds: number;
}

export function systemUpstreams(resolvConf = '/etc/resolv.conf'): UpstreamServer[] {
  let text = '';
  try {
    text = readFileSync(resolvConf, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .map((line) => /^\s*nameserver\s+(\S+)/.exec(line)?.[1])
    .filter((address): address is string => address !== undefined && net.isIPv4(address))
    .map((address) => ({ address, port: 53 }));
}

/** `name=ip[,ip]` entries separated by spaces or semicolons (HEARTH_DNS_HOSTS / --dns-host). */
export function parseStaticHosts(text: string | undefined): Map<string, string[]> {
  const hosts = new Map<string, string[]>();
  for (const entry of (text ?? '').split(/[\s;]+/).filter(Boolean)) {
    const [name, addresses] = entry.split('=');
    const list = (addresses ?? '').split(',').filter((address) => net.isIPv4(address));
    if (name && list.length > 0) hosts.set(name.toLowerCase(), list);
  }
  return hosts;
}

export class UpstreamResolver {
  private nextId = 1;

  constructor(
    private readonly upstreams: readonly UpstreamServer[],
    private readonly staticHosts: ReadonlyMap<string, string[]>,
    private readonly timeoutMs = 2000,
  ) {}

  staticAnswer(name: string): string[] | undefined {
    return this.staticHosts.get(name.toLowerCase().replace(/\.$/, ''));
  }

  /** Sends a raw query to the first upstream that answers; undefined when none does. */
  async forward(query: Buffer): Promise<Buffer | undefined> {
    for (const upstream of this.upstreams) {
      const reply = await this.ask(upstream, query);
      if (reply) return reply;
    }
    return undefined;
  }

  async resolveA(name: string): Promise<ResolvedName> {
    const fixed = this.staticAnswer(name);
    if (fixed) return { addresses: fixed, ttlSeconds: 60 };
    this.nextId = (this.nextId % 0xffff) + 1;
    const reply = await this.forward(buildQuery(this.nextId, name, DnsType.A));
    const answers = reply ? readAnswers(reply) : undefined;
    return { addresses: answers?.addresses ?? [], ttlSeconds: answers?.minTtlSeconds ?? 0 };
  }

  private ask(upstream: UpstreamServer, query: Buffer): Promise<Buffer | undefined> {
    return new Promise((resolve) => {
      const socket = dgram.createSocket('udp4');
      const finish = (reply: Buffer | undefined): void => {
        clearTimeout(timer);
        socket.close();
        resolve(reply);
      };
      const timer = setTimeout(() => finish(undefined), this.timeoutMs);
      socket.on('error', () => finish(undefined));
      socket.on('message', (reply) => {
        if (reply.length >= 2 && reply.readUInt16BE(0) === query.readUInt16BE(0)) finish(reply);
      });
      socket.send(query, upstream.port, upstream.address);
    });
  }
}
