// Per-sandbox identity files (hostname, hosts) written into a fresh upper layer before the sandbox starts.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { METADATA_ADDRESS } from '../../network/network-layout.js';

/** Sandbox uid/gid 0..COUNT-1 map to host BASE..BASE+COUNT-1; template files are stored shifted by BASE. */
export const SANDBOX_UID_BASE = 100000;
export const SANDBOX_UID_COUNT = 65536;

/** `nameserver`: the sandbox network's DNS server; without one the template's resolv.conf stays. */
export async function writeSandboxIdentityFiles(upperDir: string, hostname: string, nameserver?: string): Promise<void> {
  const etc = path.join(upperDir, 'etc');
  await fs.mkdir(etc, { mode: 0o755 });
  await fs.chown(etc, SANDBOX_UID_BASE, SANDBOX_UID_BASE);
  const files: Array<[string, string]> = [
    ['hostname', `${hostname}\n`],
    ['hosts', `127.0.0.1\tlocalhost\n127.0.1.1\t${hostname}\n::1\tlocalhost ip6-localhost ip6-loopback\n${nameserver ? `${METADATA_ADDRESS}\tmetadata.hearth.internal\n` : ''}`],
    ...(nameserver ? [['resolv.conf', `nameserver ${nameserver}\n`] as [string, string]] : []),
  ];
  for (const [name, content] of files) {
    const file = path.join(etc, name);
    await fs.writeFile(file, content, { mode: 0o644 });
    await fs.chown(file, SANDBOX_UID_BASE, SANDBOX_UID_BASE);
  }
}
