// The limits a new sandbox gets: what the create asked for, else its template's, else the server's.
import type { ServerConfig } from '../config/server-config.js';
import { InvalidArgumentError, UnsupportedError } from '../errors/hearth-error.js';
import type { TemplateRecord } from '../store/store.js';
import type { SandboxLimits } from './commands.js';

export type ResolvedLimits = Required<SandboxLimits>;

/** `diskLimits`: whether the backend enforces disk limits; without them a sandbox records diskMiB 0 (none). */
export function resolveLimits(template: TemplateRecord, requested: SandboxLimits, config: ServerConfig, diskLimits: boolean): ResolvedLimits {
  const capacityMiB = config.sandboxDiskGiB * 1024;
  if (requested.diskMiB !== undefined) {
    if (!diskLimits) throw new UnsupportedError('diskSizeMB', 'this server runs without sandbox disk limits (--no-sandbox-disk); leave diskSizeMB out');
    if (requested.diskMiB > capacityMiB) throw new InvalidArgumentError(`diskSizeMB ${requested.diskMiB} exceeds this server's sandbox disk of ${capacityMiB} MiB`);
  }
  return {
    cpuCount: requested.cpuCount ?? template.cpuCount,
    memoryMiB: requested.memoryMiB ?? template.memoryMiB,
    pidsLimit: requested.pidsLimit ?? (template.pidsLimit || config.defaultPidsLimit),
    diskMiB: diskLimits ? (requested.diskMiB ?? Math.min(template.diskMiB || config.defaultDiskMiB, capacityMiB)) : 0,
  };
}

export function sameLimits(a: ResolvedLimits, b: ResolvedLimits): boolean {
  return a.cpuCount === b.cpuCount && a.memoryMiB === b.memoryMiB && a.pidsLimit === b.pidsLimit && a.diskMiB === b.diskMiB;
}
