// Resource limits in a request body (create or template build): E2B's cpuCount and memoryMB, and
// Hearth's pidsLimit and diskSizeMB, each an integer within fixed bounds or a typed 400.
import { InvalidArgumentError } from '../../errors/hearth-error.js';
import type { SandboxLimits } from '../../core/commands.js';

/** Inclusive bounds per body field; disk is further capped by the server's sandbox disk (core). */
export const LIMIT_BOUNDS = {
  cpuCount: { min: 1, max: 64 },
  memoryMB: { min: 64, max: 262_144 },
  pidsLimit: { min: 16, max: 65_536 },
  diskSizeMB: { min: 64, max: 1_048_576 },
} as const;

function boundedInt(body: Record<string, unknown>, field: keyof typeof LIMIT_BOUNDS): number | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  const { min, max } = LIMIT_BOUNDS[field];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(`${field} must be an integer from ${min} to ${max}`);
  }
  return value;
}

export function parseLimits(body: Record<string, unknown>): SandboxLimits {
  const cpuCount = boundedInt(body, 'cpuCount');
  const memoryMiB = boundedInt(body, 'memoryMB');
  const pidsLimit = boundedInt(body, 'pidsLimit');
  const diskMiB = boundedInt(body, 'diskSizeMB');
  return {
    ...(cpuCount !== undefined ? { cpuCount } : {}),
    ...(memoryMiB !== undefined ? { memoryMiB } : {}),
    ...(pidsLimit !== undefined ? { pidsLimit } : {}),
    ...(diskMiB !== undefined ? { diskMiB } : {}),
  };
}
