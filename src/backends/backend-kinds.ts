// The backends a sandbox can run on, and parsing a backend name from a flag, env var, template or create body.
import { InvalidArgumentError } from '../errors/hearth-error.js';

export const BACKEND_KINDS = ['namespaces', 'gvisor', 'microvm'] as const;
export type BackendKind = (typeof BACKEND_KINDS)[number];

export function isBackendKind(value: unknown): value is BackendKind {
  return typeof value === 'string' && (BACKEND_KINDS as readonly string[]).includes(value);
}

/** The backend named by `value`, or InvalidArgumentError (400) naming where it came from and the choices. */
export function parseBackendKind(value: unknown, where: string): BackendKind {
  if (isBackendKind(value)) return value;
  throw new InvalidArgumentError(`${where} must be one of ${BACKEND_KINDS.join(', ')}, got ${JSON.stringify(value)}`);
}
