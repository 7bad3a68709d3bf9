// Where a sandbox's overlay directories live, and preparing them before launch.
//   <dir>/identity/etc/{hostname,hosts,resolv.conf}  a per-sandbox read-only layer above the template's
//   <dir>/disk/{upper,work}              with disk limits: a btrfs subvolume `launch --disk-volume` creates
//   <dir>/{upper,work}                   without disk limits
// A build step's caller-owned upper dir may sit on another filesystem: its work dir goes beside it
// (overlayfs needs both on one mount) and is removed when the step's sandbox stops.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { SandboxSpec } from '../backend.js';
import { SANDBOX_UID_BASE, writeSandboxIdentityFiles, type IdentityNetwork } from './sandbox-identity.js';

export interface SandboxLayout {
  upper: string;
  work: string;
  /** Extra lower layers above the template's, topmost first. */
  lowers: string[];
  /** Created by the launcher as a subvolume limited to `bytes`; holds upper and work. */
  volume: { dir: string; bytes: number } | undefined;
  /** A work dir outside the sandbox directory, removed on stop. */
  externalWork: string | undefined;
}

const MIB = 1024 * 1024;

export function sandboxLayout(dir: string, spec: SandboxSpec, diskLimits: boolean): SandboxLayout {
  if (spec.upperDir) {
    const work = `${spec.upperDir}.work`;
    return { upper: spec.upperDir, work, lowers: [], volume: undefined, externalWork: work };
  }
  const identity = path.join(dir, 'identity');
  if (diskLimits && spec.diskMiB > 0) {
    const volume = path.join(dir, 'disk');
    return { upper: path.join(volume, 'upper'), work: path.join(volume, 'work'), lowers: [identity], volume: { dir: volume, bytes: spec.diskMiB * MIB }, externalWork: undefined };
  }
  return { upper: path.join(dir, 'upper'), work: path.join(dir, 'work'), lowers: [identity], volume: undefined, externalWork: undefined };
}

/** Creates what the launcher expects to exist (it creates the disk volume itself). */
export async function prepareLayout(layout: SandboxLayout, hostname: string, network: IdentityNetwork | undefined): Promise<void> {
  for (const lower of layout.lowers) {
    await fs.mkdir(lower, { mode: 0o755 });
    await writeSandboxIdentityFiles(lower, hostname, network);
  }
  if (layout.volume) return;
  if (!layout.externalWork) await fs.mkdir(layout.upper);
  await fs.mkdir(layout.work);
  await fs.chown(layout.upper, SANDBOX_UID_BASE, SANDBOX_UID_BASE);
}

/** The launch arguments for the layout's disk volume, if it has one. */
export function volumeArgs(layout: SandboxLayout): string[] {
  return layout.volume ? ['--disk-volume', layout.volume.dir, '--disk-bytes', String(layout.volume.bytes)] : [];
}
