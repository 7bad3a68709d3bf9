// Choosing gVisor's runsc platform: an explicit HEARTH_GVISOR_PLATFORM is taken as given and a wrong one named;
// `auto` measures process starts on each candidate (here through a stand-in runsc that reports fixed timings
// the way the real probe's shell prints them), prefers systrap unless ptrace is clearly faster, skips a platform
// that fails, and reuses its measurement until the host changes.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { BackendMisconfiguredError } from '../../src/errors/hearth-error.js';
import { choosePlatform, fasterPlatform } from '../../src/backends/gvisor/platform-choice.js';
import { testTempDir } from '../helpers/test-run.js';

const dir = testTempDir('platform-');
after(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A runsc stand-in: `--platform=P ... do bash -c SCRIPT` prints two EPOCHREALTIME stamps 12 process starts
 * apart (`costs` ms each), counts its calls in `calls`, and fails for platforms without a cost.
 */
function fakeRunsc(name: string, costs: Record<string, number>): { binary: string; calls: () => number } {
  const binary = path.join(dir, name);
  const calls = path.join(dir, `${name}.calls`);
  writeFileSync(calls, '');
  const cases = Object.entries(costs)
    .map(([platform, ms]) => `    --platform=${platform}) echo "1000.000000 ${(1000 + (ms * 12) / 1000).toFixed(6)}"; exit 0 ;;`)
    .join('\n');
  writeFileSync(binary, `#!/bin/sh\necho x >> ${calls}\nfor arg in "$@"; do\n  case "$arg" in\n${cases}\n    --platform=*) exit 1 ;;\n  esac\ndone\nexit 2\n`);
  chmodSync(binary, 0o755);
  return { binary, calls: () => readFileSync(calls, 'utf8').split('\n').filter(Boolean).length };
}

test('an explicit platform is used as given, without probing; an unknown one is a configuration error', async () => {
  const runsc = fakeRunsc('explicit', { systrap: 40, ptrace: 10 });
  assert.deepEqual(await choosePlatform('systrap', runsc.binary, 20240729, ['systrap', 'ptrace'], path.join(dir, 'explicit-cache')), {
    platform: 'systrap',
    reason: 'set by HEARTH_GVISOR_PLATFORM',
  });
  assert.equal(runsc.calls(), 0);
  await assert.rejects(choosePlatform('fast', runsc.binary, 20240729, ['systrap', 'ptrace'], dir), (error: unknown) => {
    assert.ok(error instanceof BackendMisconfiguredError);
    assert.match(error.message, /HEARTH_GVISOR_PLATFORM=fast is not one of auto, systrap, ptrace, kvm/);
    return true;
  });
});

test('systrap wins unless ptrace starts processes at least 25% faster', () => {
  assert.equal(fasterPlatform({ systrap: 37, ptrace: 17 }), 'ptrace');
  assert.equal(fasterPlatform({ systrap: 20, ptrace: 17 }), 'systrap');
  assert.equal(fasterPlatform({ systrap: 5, ptrace: 17 }), 'systrap');
  assert.equal(fasterPlatform({ ptrace: 17 }), 'ptrace');
  assert.equal(fasterPlatform({ systrap: 40 }), 'systrap');
  assert.equal(fasterPlatform({}), undefined);
});

test('auto measures each candidate once, keeps the result, and names what it measured', async () => {
  const cacheDir = mkdtempSync(path.join(dir, 'cache-'));
  const runsc = fakeRunsc('auto', { systrap: 36, ptrace: 16 });
  const first = await choosePlatform('auto', runsc.binary, 20240729, ['systrap', 'ptrace'], cacheDir);
  assert.equal(first.platform, 'ptrace');
  assert.match(first.reason, /^auto, measured now: systrap 36\.0 ms, ptrace 16\.0 ms per process start$/);
  assert.equal(runsc.calls(), 2);
  const second = await choosePlatform('auto', runsc.binary, 20240729, ['systrap', 'ptrace'], cacheDir);
  assert.equal(second.platform, 'ptrace');
  assert.match(second.reason, /measured after boot/);
  assert.equal(runsc.calls(), 2, 'the cached measurement is reused');
  // another runsc version is another host as far as the measurement goes
  await choosePlatform('auto', runsc.binary, 20250101, ['systrap', 'ptrace'], cacheDir);
  assert.equal(runsc.calls(), 4);
});

test('a platform that cannot start a sandbox is skipped; none working is a configuration error', async () => {
  const onlyPtrace = fakeRunsc('only-ptrace', { ptrace: 30 });
  const chosen = await choosePlatform('auto', onlyPtrace.binary, 20240729, ['systrap', 'ptrace'], mkdtempSync(path.join(dir, 'cache-')));
  assert.equal(chosen.platform, 'ptrace');
  const none = fakeRunsc('none', {});
  await assert.rejects(choosePlatform('auto', none.binary, 20240729, ['systrap', 'ptrace'], mkdtempSync(path.join(dir, 'cache-'))), BackendMisconfiguredError);
});
