// Errors of checkpoints and snapshots: one Hearth refuses to restore (corrupt, truncated, of another format version,
// or made by another backend, template or sandbox; nothing is restored when it is thrown), and a persistent snapshot
// that does not exist.
import { ErrorCode } from './error-codes.js';
import { HearthError } from './hearth-error.js';

export class SnapshotInvalidError extends HearthError {
  constructor(what: string, message: string, options?: { cause?: unknown }) {
    super(ErrorCode.snapshotInvalid, `refusing ${what}: ${message}; nothing was restored (delete the snapshot or kill the sandbox)`, options);
  }
}

export class SnapshotNotFoundError extends HearthError {
  constructor(ref: string) {
    super(ErrorCode.snapshotNotFound, `snapshot "${ref}" not found: it never existed or was deleted (list snapshots with \`hearth snapshot ls\`)`);
  }
}
