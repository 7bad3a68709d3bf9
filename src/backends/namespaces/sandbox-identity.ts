// Per-sandbox identity files (hostname, hosts, resolver, trusted CAs) written into a small per-sandbox layer
// above the template's before the sandbox starts.
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { CA_BUNDLE_PATH, METADATA_ADDRESS } from '../../network/network-layout.js';
import type { SandboxSpec } from '../backend.js';

/** Sandbox uid/gid 0..COUNT-1 map to host BASE..BASE+COUNT-1; template files are stored shifted by BASE. */
export const SANDBOX_UID_BASE = 100000;
export const SANDBOX_UID_COUNT = 65536;


export interface IdentityNetwork {
  /** The sandbox network's DNS server; without one the template's resolv.conf stays. */
  nameserver: string;
  /** A CA certificate the sandbox must trust (the egress proxy's), appended to the template's bundle. */
  trustedCaPem?: string;
  /** The template's layers, topmost first, to find its own CA bundle in. */
  templateLayers: readonly string[];
}

const templateBundles = new Map<string, string>();

async function templateBundle(layers: readonly string[]): Promise<string> {
  const key = layers.join('\n');
  let bundle = templateBundles.get(key);
  if (bundle === undefined) {
    const layer = layers.find((dir) => existsSync(path.join(dir, CA_BUNDLE_PATH)));
    bundle = layer ? await fs.readFile(path.join(layer, CA_BUNDLE_PATH), 'utf8') : '';
    templateBundles.set(key, bundle);
  }
  return bundle;
}

async function writeOwned(root: string, relative: string, content: string): Promise<void> {
  const parts = relative.split('/').filter(Boolean);
  let dir = root;
  for (const part of parts.slice(0, -1)) {
    dir = path.join(dir, part);
    if (!existsSync(dir)) {
      await fs.mkdir(dir, { mode: 0o755 });
      await fs.chown(dir, SANDBOX_UID_BASE, SANDBOX_UID_BASE);
    }
  }
  const file = path.join(root, ...parts);
  await fs.writeFile(file, content, { mode: 0o644 });
  await fs.chown(file, SANDBOX_UID_BASE, SANDBOX_UID_BASE);
}

/** What a spec asks of the identity layer's network files (nothing without a bridged network). */
export function identityNetwork(spec: SandboxSpec): IdentityNetwork | undefined {
  if (!spec.nameserver) return undefined;
  return { nameserver: spec.nameserver, templateLayers: spec.template.layers, ...(spec.trustedCaPem ? { trustedCaPem: spec.trustedCaPem } : {}) };
}

export async function writeSandboxIdentityFiles(layerDir: string, hostname: string, bridged: IdentityNetwork | undefined): Promise<void> {
  await writeOwned(layerDir, 'etc/hostname', `${hostname}\n`);
  await writeOwned(
    layerDir,
    'etc/hosts',
    `127.0.0.1\tlocalhost\n127.0.1.1\t${hostname}\n::1\tlocalhost ip6-localhost ip6-loopback\n${bridged ? `${METADATA_ADDRESS}\tmetadata.hearth.internal\n` : ''}`,
  );
  if (!bridged) return;
  await writeOwned(layerDir, 'etc/resolv.conf', `nameserver ${bridged.nameserver}\n`);
  if (bridged.trustedCaPem) {
    const bundle = await templateBundle(bridged.templateLayers);
    await writeOwned(layerDir, CA_BUNDLE_PATH, `${bundle}${bundle.endsWith('\n') || bundle === '' ? '' : '\n'}${bridged.trustedCaPem}`);
  }
}
