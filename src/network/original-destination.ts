// Where a redirected connection was really going: the kernel's connection-tracking table keeps the address and
// port the sandbox dialled before the firewall redirected it to the egress proxy.
import { promises as fs } from 'node:fs';

export interface Destination {
  address: string;
  port: number;
}

const CONNTRACK_TABLE = '/proc/net/nf_conntrack';
const LIVE_STATES = new Set(['ESTABLISHED', 'SYN_RECV', 'SYN_SENT']);

/** Finds the original tuple of the connection from `source:sourcePort` now ending at `proxyPort`. */
export function findOriginalDestination(table: string, source: string, sourcePort: number, proxyPort: number): Destination | undefined {
  const needle = `src=${source} `;
  for (const line of table.split('\n')) {
    if (!line.includes(needle) || !line.includes(` sport=${sourcePort} `)) continue;
    const fields = line.trim().split(/\s+/);
    if (fields[2] !== 'tcp' || !LIVE_STATES.has(fields[5] ?? '')) continue;
    const values = (key: string): string[] => fields.filter((field) => field.startsWith(`${key}=`)).map((field) => field.slice(key.length + 1));
    const [origSrc, replySrc] = values('src');
    const [origDst] = values('dst');
    const [origSport, replySport] = values('sport');
    const [origDport] = values('dport');
    if (origSrc !== source || Number(origSport) !== sourcePort || Number(replySport) !== proxyPort || !origDst || !replySrc) continue;
    return { address: origDst, port: Number(origDport) };
  }
  return undefined;
}

export async function originalDestination(source: string, sourcePort: number, proxyPort: number): Promise<Destination | undefined> {
  return findOriginalDestination(await fs.readFile(CONNTRACK_TABLE, 'utf8'), source, sourcePort, proxyPort);
}
