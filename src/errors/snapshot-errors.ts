// The error for a checkpoint or snapshot that Hearth refuses to restore: corrupt, truncated, of another format
// version, or made by another backend, template or sandbox. Nothing is restored when it is thrown.
import { ErrorCode } from './error-codes.js';
import { HearthError } from './hearth-error.js';

export class SnapshotInvalidError extends HearthError {
  constructor(what: string, message: string, options?: { cause?: unknown }) {
    super(ErrorCode.snapshotInvalid, `refusing ${what}: ${message}; nothing was restored (delete the snapshot or kill the sandbox)`, options);
  }
}
