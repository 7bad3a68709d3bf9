// The one error hierarchy: every failure Hearth reports carries a stable code.
import { ErrorCode } from './error-codes.js';

export class HearthError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, { cause: options?.cause ?? null });
    this.name = new.target.name;
    this.code = code;
  }
}

export class InvalidArgumentError extends HearthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.invalidArgument, message, options);
  }
}

export class UnauthenticatedError extends HearthError {
  constructor(message: string) {
    super(ErrorCode.unauthenticated, message);
  }
}

export class PermissionDeniedError extends HearthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.permissionDenied, message, options);
  }
}

export class SandboxNotFoundError extends HearthError {
  constructor(sandboxId: string) {
    super(ErrorCode.sandboxNotFound, `sandbox "${sandboxId}" not found: it never existed, was killed or its timeout expired`);
  }
}

export class TemplateNotFoundError extends HearthError {
  constructor(templateId: string) {
    super(ErrorCode.templateNotFound, `template "${templateId}" not found: list templates with \`hearth template ls\``);
  }
}

export class SecretNotFoundError extends HearthError {
  constructor(name: string) {
    super(ErrorCode.secretNotFound, `secret "${name}" not found: list secrets with \`hearth secret ls\``);
  }
}

export class FileNotFoundError extends HearthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.fileNotFound, message, options);
  }
}

export class ProcessNotFoundError extends HearthError {
  constructor(selector: string) {
    super(ErrorCode.processNotFound, `process ${selector} not found: it has exited or never existed`);
  }
}

export class AlreadyExistsError extends HearthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.alreadyExists, message, options);
  }
}

export class ConflictError extends HearthError {
  constructor(message: string) {
    super(ErrorCode.conflict, message);
  }
}

export class PayloadTooLargeError extends HearthError {
  constructor(limitBytes: number) {
    super(ErrorCode.payloadTooLarge, `request body exceeds the limit of ${limitBytes} bytes`);
  }
}

/** An operation the chosen backend does not offer; says which and why. */
export class UnsupportedError extends HearthError {
  readonly operation: string;

  constructor(operation: string, reason: string) {
    super(ErrorCode.unsupported, `${operation} is not supported: ${reason}`);
    this.operation = operation;
  }
}

export class ResourceExhaustedError extends HearthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.resourceExhausted, message, options);
  }
}

export class NotEnoughSpaceError extends HearthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.notEnoughSpace, message, options);
  }
}

export class SandboxUnavailableError extends HearthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.sandboxUnavailable, message, options);
  }
}

export class DeadlineExceededError extends HearthError {
  constructor(message: string) {
    super(ErrorCode.deadlineExceeded, message);
  }
}

export class ProtocolError extends HearthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.protocolError, message, options);
  }
}

/** A backend that cannot run on this host: the message names what to install. */
export class BackendMisconfiguredError extends HearthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.backendMisconfigured, message, options);
  }
}

export class InternalError extends HearthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.internal, message, options);
  }
}

/** Any thrown value as a HearthError, keeping the original as the cause. */
export function toHearthError(error: unknown): HearthError {
  if (error instanceof HearthError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new InternalError(`unexpected failure: ${message}`, { cause: error });
}
