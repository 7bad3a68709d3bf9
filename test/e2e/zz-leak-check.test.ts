// Runs last: no test may leave a sandbox (its cgroup) or a test data directory behind.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import os from 'node:os';
import { test } from 'node:test';

test('the suite leaves no sandbox or test data directory behind', () => {
  const testCgroups = '/sys/fs/cgroup/pids/hearth-test';
  const leftovers = existsSync(testCgroups) ? readdirSync(testCgroups, { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name) : [];
  assert.deepEqual(leftovers, [], 'every test server removed its cgroups, so none of its sandboxes is left');
  assert.deepEqual(readdirSync(os.tmpdir()).filter((name) => name.startsWith('hearth-test-')), []);
});
