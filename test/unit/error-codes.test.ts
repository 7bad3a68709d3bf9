// Every error code maps to an HTTP status and a Connect code; statuses match the E2B SDK's expectations.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CONNECT_CODE_BY_CODE, ErrorCode, HTTP_STATUS_BY_CODE, HTTP_STATUS_BY_CONNECT_CODE } from '../../src/errors/error-codes.js';
import { SandboxNotFoundError, UnsupportedError, toHearthError } from '../../src/errors/hearth-error.js';

test('each code has a status and a Connect code', () => {
  for (const code of Object.values(ErrorCode)) {
    assert.ok(HTTP_STATUS_BY_CODE[code] >= 400, code);
    assert.ok(HTTP_STATUS_BY_CONNECT_CODE[CONNECT_CODE_BY_CODE[code]] >= 400, code);
  }
});

test('typed errors carry stable codes and causes', () => {
  assert.equal(new SandboxNotFoundError('abc').code, 'sandbox_not_found');
  const unsupported = new UnsupportedError('pause', 'no CRIU');
  assert.equal(unsupported.code, 'unsupported');
  assert.match(unsupported.message, /pause is not supported: no CRIU/);
  const wrapped = toHearthError(new TypeError('boom'));
  assert.equal(wrapped.code, 'internal');
  assert.ok(wrapped.cause instanceof TypeError);
});
