// What one run of the suite owns on the host. `scripts/test.sh` gives every run its own id (HEARTH_TEST_RUN),
// and every test server's cgroups and every test's temporary directory carry it, so the leak check at the end
// judges this run only: neither what an interrupted earlier run left nor a second run on the same host counts.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const TEST_RUN_ID = process.env['HEARTH_TEST_RUN'] ?? 'local';

/** The cgroup (in every hierarchy) under which each test server of this run gets its own parent. */
export const TEST_CGROUP_ROOT = `hearth-test/${TEST_RUN_ID}`;

/** Every temporary directory of this run starts with this. */
export const TEST_TEMP_PREFIX = `hearth-test-${TEST_RUN_ID}-`;

/** A new directory under the system temp dir that the leak check knows as this run's; `purpose` names it. */
export function testTempDir(purpose = ''): string {
  return mkdtempSync(path.join(os.tmpdir(), `${TEST_TEMP_PREFIX}${purpose}`));
}

/** The cgroup parent a test server with this data directory runs its sandboxes under. */
export function serverCgroupParent(dataDir: string): string {
  return `${TEST_CGROUP_ROOT}/${path.basename(dataDir)}`;
}

/** A test server's cgroup directory in `controller`, or one of its sandboxes'. */
export function sandboxCgroupDir(controller: string, dataDir: string, sandboxId?: string): string {
  return path.join('/sys/fs/cgroup', controller, serverCgroupParent(dataDir), sandboxId ?? '');
}
