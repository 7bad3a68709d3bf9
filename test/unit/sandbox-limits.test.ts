// Limits: the body fields' bounds, and create-else-template-else-server resolution with the disk cap.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultConfig } from '../../src/config/server-config.js';
import { resolveLimits, sameLimits } from '../../src/core/sandbox-limits.js';
import { InvalidArgumentError, UnsupportedError } from '../../src/errors/hearth-error.js';
import { parseLimits } from '../../src/server/control-plane/limit-parsing.js';
import { DEFAULT_TEMPLATE_CONFIG, type TemplateRecord } from '../../src/store/store.js';

const template: TemplateRecord = {
  id: 't', aliases: [], layers: ['/x'], config: DEFAULT_TEMPLATE_CONFIG, buildMs: 0, createdAtMs: 0,
  cpuCount: 2, memoryMiB: 512, diskMiB: 2048, pidsLimit: 300, sizeBytes: 0, status: 'ready',
};
const config = defaultConfig({ sandboxDiskGiB: 4 });

test('parseLimits maps E2B and Hearth field names and rejects out-of-range or mistyped values', () => {
  assert.deepEqual(parseLimits({ cpuCount: 1, memoryMB: 256, pidsLimit: 64, diskSizeMB: 1024 }), { cpuCount: 1, memoryMiB: 256, pidsLimit: 64, diskMiB: 1024 });
  assert.deepEqual(parseLimits({}), {});
  for (const body of [{ pidsLimit: 15 }, { pidsLimit: 65_537 }, { pidsLimit: '64' }, { pidsLimit: null }, { diskSizeMB: 1.5 }, { diskSizeMB: 63 }, { diskSizeMB: -1 }]) {
    assert.throws(() => parseLimits(body), InvalidArgumentError, JSON.stringify(body));
  }
});

test('resolveLimits: the create wins, then the template, then the server; disk is capped by the sandbox disk', () => {
  assert.deepEqual(resolveLimits(template, {}, config, true), { cpuCount: 2, memoryMiB: 512, pidsLimit: 300, diskMiB: 2048 });
  assert.deepEqual(resolveLimits(template, { pidsLimit: 64, diskMiB: 128 }, config, true), { cpuCount: 2, memoryMiB: 512, pidsLimit: 64, diskMiB: 128 });
  const legacy = { ...template, pidsLimit: 0, diskMiB: 0 };
  assert.deepEqual(resolveLimits(legacy, {}, config, true), { cpuCount: 2, memoryMiB: 512, pidsLimit: 512, diskMiB: 4096 }, 'server defaults, the disk one capped at 4 GiB');
  assert.throws(() => resolveLimits(template, { diskMiB: 5000 }, config, true), InvalidArgumentError);
  assert.equal(resolveLimits(template, {}, config, false).diskMiB, 0, 'no disk limits: none recorded');
  assert.throws(() => resolveLimits(template, { diskMiB: 128 }, config, false), UnsupportedError);
  assert.equal(sameLimits(resolveLimits(template, { pidsLimit: 300 }, config, true), resolveLimits(template, {}, config, true)), true);
  assert.equal(sameLimits(resolveLimits(template, { diskMiB: 128 }, config, true), resolveLimits(template, {}, config, true)), false);
});
