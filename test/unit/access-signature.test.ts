// Signed file URLs: the exact signature the e2b SDK computes, expiry, and tampering.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { PermissionDeniedError, UnauthenticatedError } from '../../src/errors/hearth-error.js';
import { fileSignature, verifyFileSignature } from '../../src/server/data-plane/access-signature.js';

test('signature matches the SDK formula', () => {
  const expected = `v1_${createHash('sha256').update('/a.txt:read:user:tok:1700000000').digest('base64').replace(/=+$/, '')}`;
  assert.equal(fileSignature('/a.txt', 'read', 'user', 'tok', 1_700_000_000), expected);
});

test('valid, expired, and tampered signatures', () => {
  const nowMs = 1_700_000_000_000;
  const signature = fileSignature('/a.txt', 'read', 'user', 'tok', 1_700_000_060);
  const base = { signature, expiration: '1700000060', path: '/a.txt', operation: 'read' as const, user: 'user', accessToken: 'tok', nowMs };
  assert.doesNotThrow(() => verifyFileSignature(base));
  assert.throws(() => verifyFileSignature({ ...base, nowMs: nowMs + 120_000 }), UnauthenticatedError);
  assert.throws(() => verifyFileSignature({ ...base, path: '/b.txt' }), PermissionDeniedError);
  assert.throws(() => verifyFileSignature({ ...base, operation: 'write' }), PermissionDeniedError);
  assert.throws(() => verifyFileSignature({ ...base, accessToken: 'other' }), PermissionDeniedError);
  assert.throws(() => verifyFileSignature({ ...base, expiration: 'soon' }), UnauthenticatedError);
});
