// Runs last: no test may leave a sandbox process or data directory behind.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import { test } from 'node:test';

function supervisorCommandLines(): string[] {
  const lines: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (cmdline.includes('hearth-supervisor launch') && cmdline.includes('hearth-test-')) lines.push(`${entry}: ${cmdline.slice(0, 160)}`);
    } catch {
      // process exited while we looked
    }
  }
  return lines;
}

test('the suite leaves no sandbox processes or test data directories behind', () => {
  assert.deepEqual(supervisorCommandLines(), []);
  assert.deepEqual(readdirSync(os.tmpdir()).filter((name) => name.startsWith('hearth-test-')), []);
});
