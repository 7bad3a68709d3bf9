// Names and references of persistent snapshots: ids, user-chosen names, E2B's `:default` tag, list cursors.
import { randomBytes } from 'node:crypto';
import { InvalidArgumentError } from '../errors/hearth-error.js';

/** The same rule as template names: snapshots and templates share the `templateID` of a create. */
const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;
/** E2B qualifies a snapshot with its tag; Hearth's snapshots have only the default one. */
const DEFAULT_TAG = ':default';
const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

export function newSnapshotId(): string {
  const bytes = randomBytes(16);
  return `snap-${[...bytes].map((byte) => ID_ALPHABET[byte % ID_ALPHABET.length]).join('')}`;
}

/** A snapshot name from a request body; InvalidArgumentError (400) when it is not one. */
export function parseSnapshotName(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new InvalidArgumentError('name must be a string');
  if (!NAME_PATTERN.test(value)) throw new InvalidArgumentError(`snapshot name "${value.slice(0, 80)}" must be 1 to 63 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit`);
  return value;
}

/** The id or name a reference means (`my-snap`, `my-snap:default`); undefined for any other tag, which no snapshot has. */
export function snapshotRefKey(ref: string): string | undefined {
  const colon = ref.indexOf(':');
  if (colon === -1) return ref;
  return ref.slice(colon) === DEFAULT_TAG ? ref.slice(0, colon) : undefined;
}

export function encodeSnapshotCursor(position: { createdAtMs: number; id: string }): string {
  return Buffer.from(`${position.createdAtMs}:${position.id}`).toString('base64url');
}

export function decodeSnapshotCursor(token: string): { createdAtMs: number; id: string } {
  const [ms, id] = Buffer.from(token, 'base64url').toString('utf8').split(':');
  const createdAtMs = Number(ms);
  if (!id || !Number.isFinite(createdAtMs)) throw new InvalidArgumentError(`nextToken "${token.slice(0, 80)}" is not a token this server issued`);
  return { createdAtMs, id };
}
