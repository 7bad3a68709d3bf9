// IPv4 addresses and CIDR blocks as numbers: parsing, membership and the ranges a sandbox may never reach.
import net from 'node:net';
import os from 'node:os';

export interface Cidr {
  /** Network address as an unsigned 32-bit number. */
  base: number;
  prefixLength: number;
  text: string;
}

export function ipv4ToNumber(address: string): number | undefined {
  if (!net.isIPv4(address)) return undefined;
  return address.split('.').reduce((sum, part) => sum * 256 + Number(part), 0);
}

export function numberToIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

function mask(prefixLength: number): number {
  return prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
}

/** Parses `a.b.c.d/n` or a bare address (a /32); undefined when it is neither. */
export function parseCidr(text: string): Cidr | undefined {
  const [address, prefix, ...rest] = text.trim().split('/');
  if (rest.length > 0 || address === undefined) return undefined;
  const value = ipv4ToNumber(address);
  const prefixLength = prefix === undefined ? 32 : /^\d{1,2}$/.test(prefix) ? Number(prefix) : NaN;
  if (value === undefined || !(prefixLength >= 0 && prefixLength <= 32)) return undefined;
  const base = (value & mask(prefixLength)) >>> 0;
  return { base, prefixLength, text: `${numberToIpv4(base)}/${prefixLength}` };
}

export function cidrContains(cidr: Cidr, address: string): boolean {
  const value = ipv4ToNumber(address);
  return value !== undefined && ((value & mask(cidr.prefixLength)) >>> 0) === cidr.base;
}

function cidrs(texts: readonly string[]): Cidr[] {
  return texts.map((text) => parseCidr(text)).filter((cidr): cidr is Cidr => cidr !== undefined);
}

/** Never reachable from a sandbox, whatever its policy says: this host, loopback, link-local, multicast. */
const NEVER_REACHABLE = cidrs(['0.0.0.0/8', '127.0.0.0/8', '169.254.0.0/16', '224.0.0.0/4', '240.0.0.0/4']);

/** Private networks: reachable only when a policy allows them explicitly (by CIDR or by an allowed domain). */
const PRIVATE_RANGES = cidrs(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '198.18.0.0/15']);

export function isNeverReachable(address: string, sandboxSubnet: Cidr): boolean {
  if (cidrContains(sandboxSubnet, address) || NEVER_REACHABLE.some((cidr) => cidrContains(cidr, address))) return true;
  return Object.values(os.networkInterfaces()).some((list) => list?.some((entry) => entry.address === address));
}

export function isPrivate(address: string): boolean {
  return PRIVATE_RANGES.some((cidr) => cidrContains(cidr, address));
}
