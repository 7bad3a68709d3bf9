// Signed file URLs (E2B's `v1_` signatures): sha256 over path, operation, user, access token and expiry.
import { createHash, timingSafeEqual } from 'node:crypto';
import { PermissionDeniedError, UnauthenticatedError } from '../../errors/hearth-error.js';

export function fileSignature(path: string, operation: 'read' | 'write', user: string, accessToken: string, expirationSeconds: number | undefined): string {
  const raw = expirationSeconds === undefined ? `${path}:${operation}:${user}:${accessToken}` : `${path}:${operation}:${user}:${accessToken}:${expirationSeconds}`;
  return `v1_${createHash('sha256').update(raw).digest('base64').replace(/=+$/, '')}`;
}

export function verifyFileSignature(params: {
  signature: string;
  expiration: string | null;
  path: string;
  operation: 'read' | 'write';
  user: string;
  accessToken: string;
  nowMs: number;
}): void {
  let expirationSeconds: number | undefined;
  if (params.expiration !== null) {
    expirationSeconds = Number(params.expiration);
    if (!Number.isInteger(expirationSeconds)) throw new UnauthenticatedError('signature_expiration must be a unix time in seconds');
    if (expirationSeconds * 1000 < params.nowMs) throw new UnauthenticatedError('the signed URL has expired');
  }
  const expected = Buffer.from(fileSignature(params.path, params.operation, params.user, params.accessToken, expirationSeconds));
  const given = Buffer.from(params.signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    throw new PermissionDeniedError('the file URL signature does not match this path, operation and user');
  }
}
