// runsc with `--network=sandbox` moves the addresses and routes of a prepared network namespace into its own
// netstack and deletes them from the host side. Hearth records them before the first run and puts them back
// when the sandbox stops (so the namespace is reusable) and before a restore (which scrapes them again).
import { spawn } from 'node:child_process';
import { InternalError } from '../../errors/hearth-error.js';

export interface NetnsAddresses {
  netnsPath: string;
  /** `ip addr add` arguments: CIDR and device. */
  addresses: Array<{ cidr: string; dev: string }>;
  /** Gateways of default routes, with their device. */
  defaultRoutes: Array<{ via: string; dev: string }>;
}

function ipInNetns(netnsPath: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('nsenter', [`--net=${netnsPath}`, '--', 'ip', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', (error) => resolve({ code: -1, stdout, stderr: error.message }));
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

interface IpAddrJson {
  ifname: string;
  addr_info?: Array<{ family: string; local: string; prefixlen: number; scope: string }>;
}
interface IpRouteJson {
  dst: string;
  gateway?: string;
  dev: string;
}

/** Reads the IPv4 global addresses and default routes of every interface but loopback. */
export async function captureNetnsAddresses(netnsPath: string): Promise<NetnsAddresses> {
  const addr = await ipInNetns(netnsPath, ['-j', '-4', 'addr', 'show']);
  const route = await ipInNetns(netnsPath, ['-j', '-4', 'route', 'show']);
  if (addr.code !== 0 || route.code !== 0) throw new InternalError(`cannot read the network of ${netnsPath}: ${(addr.stderr || route.stderr).trim()}`);
  const links = JSON.parse(addr.stdout || '[]') as IpAddrJson[];
  const routes = JSON.parse(route.stdout || '[]') as IpRouteJson[];
  return {
    netnsPath,
    addresses: links
      .filter((link) => link.ifname !== 'lo')
      .flatMap((link) => (link.addr_info ?? []).filter((info) => info.family === 'inet' && info.scope === 'global').map((info) => ({ cidr: `${info.local}/${info.prefixlen}`, dev: link.ifname }))),
    defaultRoutes: routes.filter((entry) => entry.dst === 'default' && entry.gateway).map((entry) => ({ via: entry.gateway ?? '', dev: entry.dev })),
  };
}

/** Puts the recorded addresses and routes back (idempotent: `replace`). */
export async function restoreNetnsAddresses(saved: NetnsAddresses): Promise<void> {
  for (const { cidr, dev } of saved.addresses) {
    const result = await ipInNetns(saved.netnsPath, ['addr', 'replace', cidr, 'dev', dev]);
    if (result.code !== 0) throw new InternalError(`cannot give ${dev} in ${saved.netnsPath} its address ${cidr} back: ${result.stderr.trim()}`);
  }
  for (const { via, dev } of saved.defaultRoutes) {
    const result = await ipInNetns(saved.netnsPath, ['route', 'replace', 'default', 'via', via, 'dev', dev]);
    if (result.code !== 0) throw new InternalError(`cannot restore the default route of ${saved.netnsPath}: ${result.stderr.trim()}`);
  }
}

export function asNetnsAddresses(value: unknown): NetnsAddresses | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const candidate = value as Partial<NetnsAddresses>;
  if (typeof candidate.netnsPath !== 'string' || !Array.isArray(candidate.addresses) || !Array.isArray(candidate.defaultRoutes)) return undefined;
  return candidate as NetnsAddresses;
}
