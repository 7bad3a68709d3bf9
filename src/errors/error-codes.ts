// Stable error codes and the one place that maps them to HTTP statuses and Connect codes.

export const ErrorCode = {
  invalidArgument: 'invalid_argument',
  unauthenticated: 'unauthenticated',
  permissionDenied: 'permission_denied',
  sandboxNotFound: 'sandbox_not_found',
  templateNotFound: 'template_not_found',
  snapshotNotFound: 'snapshot_not_found',
  fileNotFound: 'file_not_found',
  processNotFound: 'process_not_found',
  secretNotFound: 'secret_not_found',
  routeNotFound: 'route_not_found',
  alreadyExists: 'already_exists',
  conflict: 'conflict',
  payloadTooLarge: 'payload_too_large',
  unsupported: 'unsupported',
  resourceExhausted: 'resource_exhausted',
  notEnoughSpace: 'not_enough_space',
  sandboxUnavailable: 'sandbox_unavailable',
  deadlineExceeded: 'deadline_exceeded',
  protocolError: 'protocol_error',
  backendMisconfigured: 'backend_misconfigured',
  snapshotInvalid: 'snapshot_invalid',
  internal: 'internal',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** HTTP status for every code: adding a code without a status does not compile. */
export const HTTP_STATUS_BY_CODE: Record<ErrorCode, number> = {
  invalid_argument: 400,
  unauthenticated: 401,
  permission_denied: 403,
  sandbox_not_found: 404,
  template_not_found: 404,
  snapshot_not_found: 404,
  file_not_found: 404,
  process_not_found: 404,
  secret_not_found: 404,
  route_not_found: 404,
  already_exists: 409,
  conflict: 409,
  payload_too_large: 413,
  unsupported: 501,
  resource_exhausted: 429,
  not_enough_space: 507,
  sandbox_unavailable: 502,
  deadline_exceeded: 504,
  protocol_error: 500,
  backend_misconfigured: 503,
  snapshot_invalid: 422,
  internal: 500,
};

export type ConnectCode =
  | 'canceled'
  | 'unknown'
  | 'invalid_argument'
  | 'deadline_exceeded'
  | 'not_found'
  | 'already_exists'
  | 'permission_denied'
  | 'resource_exhausted'
  | 'failed_precondition'
  | 'aborted'
  | 'out_of_range'
  | 'unimplemented'
  | 'internal'
  | 'unavailable'
  | 'data_loss'
  | 'unauthenticated';

/** Connect code for every error code, used by the data plane's RPC services. */
export const CONNECT_CODE_BY_CODE: Record<ErrorCode, ConnectCode> = {
  invalid_argument: 'invalid_argument',
  unauthenticated: 'unauthenticated',
  permission_denied: 'permission_denied',
  sandbox_not_found: 'unavailable',
  template_not_found: 'not_found',
  snapshot_not_found: 'not_found',
  file_not_found: 'not_found',
  process_not_found: 'not_found',
  secret_not_found: 'not_found',
  route_not_found: 'unimplemented',
  already_exists: 'already_exists',
  conflict: 'aborted',
  payload_too_large: 'resource_exhausted',
  unsupported: 'unimplemented',
  resource_exhausted: 'resource_exhausted',
  not_enough_space: 'resource_exhausted',
  sandbox_unavailable: 'unavailable',
  deadline_exceeded: 'deadline_exceeded',
  protocol_error: 'internal',
  backend_misconfigured: 'unavailable',
  snapshot_invalid: 'data_loss',
  internal: 'internal',
};

/** HTTP status of a Connect error on a unary call (Connect protocol specification). */
export const HTTP_STATUS_BY_CONNECT_CODE: Record<ConnectCode, number> = {
  canceled: 499,
  unknown: 500,
  invalid_argument: 400,
  deadline_exceeded: 504,
  not_found: 404,
  already_exists: 409,
  permission_denied: 403,
  resource_exhausted: 429,
  failed_precondition: 400,
  aborted: 409,
  out_of_range: 400,
  unimplemented: 501,
  internal: 500,
  unavailable: 503,
  data_loss: 500,
  unauthenticated: 401,
};
