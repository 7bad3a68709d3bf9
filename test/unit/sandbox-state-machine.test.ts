// Lifecycle transitions: legal moves succeed, illegal ones are conflicts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConflictError } from '../../src/errors/hearth-error.js';
import { assertTransition, canTransition } from '../../src/core/sandbox-state-machine.js';

test('legal and illegal transitions', () => {
  assert.ok(canTransition('starting', 'running'));
  assert.ok(canTransition('running', 'stopping'));
  assert.ok(canTransition('stopping', 'killed'));
  assert.equal(canTransition('killed', 'running'), false);
  assert.equal(canTransition('failed', 'running'), false);
  assert.throws(() => assertTransition('x', 'killed', 'running'), ConflictError);
});
