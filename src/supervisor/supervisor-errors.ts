// Turns a supervisor ERROR frame (a Linux errno and a message) into a typed Hearth error.
import { constants } from 'node:os';
import {
  AlreadyExistsError,
  FileNotFoundError,
  HearthError,
  InvalidArgumentError,
  NotEnoughSpaceError,
  PermissionDeniedError,
  ProcessNotFoundError,
  ResourceExhaustedError,
  SandboxUnavailableError,
} from '../errors/hearth-error.js';

const errno = constants.errno;

export function errorFromErrno(code: number, message: string): HearthError {
  switch (code) {
    case errno.ENOENT:
      return new FileNotFoundError(message);
    case errno.EACCES:
    case errno.EPERM:
    case errno.EROFS:
      return new PermissionDeniedError(message);
    case errno.EEXIST:
    case errno.ENOTEMPTY:
      return new AlreadyExistsError(message);
    case errno.ESRCH:
      return new ProcessNotFoundError(message);
    case errno.ENOSPC:
    case errno.EDQUOT:
      return new NotEnoughSpaceError(message);
    case errno.EAGAIN:
    case errno.ENOMEM:
    case errno.EMFILE:
      return new ResourceExhaustedError(message);
    case errno.EPIPE:
    case errno.ECONNRESET:
      return new SandboxUnavailableError(message);
    default:
      return new InvalidArgumentError(message);
  }
}
