// Named secrets: set, list (names only), delete, and the values the metadata service and egress proxy hand out.
import { InvalidArgumentError, SecretNotFoundError } from '../errors/hearth-error.js';
import type { Store } from '../store/store.js';
import type { SecretSealer } from './secret-sealer.js';

const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/;
export const MAX_SECRET_BYTES = 64 * 1024;

export interface SecretSummary {
  name: string;
  createdAtMs: number;
  updatedAtMs: number;
}

export function checkSecretName(name: unknown, field = 'name'): string {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    throw new InvalidArgumentError(`${field} must be a secret name: letters, digits, "_", "." or "-", starting with a letter or "_", at most 128 characters`);
  }
  return name;
}

export class SecretService {
  constructor(
    private readonly store: Store,
    private readonly sealer: SecretSealer,
  ) {}

  async set(name: string, value: unknown): Promise<SecretSummary> {
    checkSecretName(name);
    if (typeof value !== 'string') throw new InvalidArgumentError('value must be a string');
    if (Buffer.byteLength(value, 'utf8') > MAX_SECRET_BYTES) throw new InvalidArgumentError(`a secret value is at most ${MAX_SECRET_BYTES} bytes`);
    const nowMs = Date.now();
    const existing = await this.store.getSecret(name);
    const record = { name, sealed: this.sealer.seal(name, value), createdAtMs: existing?.createdAtMs ?? nowMs, updatedAtMs: nowMs };
    await this.store.putSecret(record);
    return { name, createdAtMs: record.createdAtMs, updatedAtMs: record.updatedAtMs };
  }

  async list(): Promise<SecretSummary[]> {
    return (await this.store.listSecrets()).map(({ name, createdAtMs, updatedAtMs }) => ({ name, createdAtMs, updatedAtMs }));
  }

  async exists(name: string): Promise<boolean> {
    return (await this.store.getSecret(name)) !== undefined;
  }

  /** Deleting a secret revokes it everywhere: running sandboxes can no longer read or inject it. */
  async delete(name: string): Promise<void> {
    if (!(await this.store.deleteSecret(checkSecretName(name)))) throw new SecretNotFoundError(name);
  }

  /** The plain value, or undefined when the secret was deleted. */
  async value(name: string): Promise<string | undefined> {
    const record = await this.store.getSecret(name);
    return record ? this.sealer.unseal(name, record.sealed) : undefined;
  }
}
