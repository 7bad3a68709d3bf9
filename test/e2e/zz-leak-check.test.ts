// Runs last: no test of this run may leave a sandbox (its cgroup, in any hierarchy) or a temporary directory behind.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { removeFromAllHierarchies } from '../../src/backends/namespaces/cgroup-v1.js';
import { TEST_CGROUP_ROOT, TEST_TEMP_PREFIX } from '../helpers/test-run.js';

function subdirectories(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir, { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name) : [];
}

test('the suite leaves no sandbox or test data directory behind', async () => {
  const hierarchies = readdirSync('/sys/fs/cgroup').filter((name) => name !== 'unified');
  const leftovers = hierarchies.flatMap((hierarchy) => subdirectories(path.join('/sys/fs/cgroup', hierarchy, TEST_CGROUP_ROOT)).map((name) => `${hierarchy}/${name}`));
  assert.deepEqual(leftovers, [], 'every test server removed its cgroups in every hierarchy, so none of its sandboxes is left');
  assert.deepEqual(readdirSync(os.tmpdir()).filter((name) => name.startsWith(TEST_TEMP_PREFIX)), []);
  await removeFromAllHierarchies(TEST_CGROUP_ROOT);
  await removeFromAllHierarchies('hearth-test');
});
