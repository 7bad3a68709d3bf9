// Reading `criu --version` and `criu check`, and naming why a host's CRIU cannot checkpoint namespaces sandboxes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { criuUnsupportedReason, firstCriuError, parseCriuVersion, parseKernelRelease, type CriuProbe } from '../../src/backends/namespaces/criu-support.js';

const BOOKWORM_CHECK = [
  'Error (criu/vdso.c:613): vdso: Failed to fill self vdso symtable',
  'Error (criu/kerndat.c:1615): kerndat_vdso_fill_symtable failed when initializing kerndat.',
  'Error (criu/crtools.c:260): Could not initialize kernel features detection.',
].join('\n');

function probe(overrides: Partial<CriuProbe>): CriuProbe {
  return { versionOutput: 'Version: 4.2\n', checkOutput: 'Looks good.\n', checkExitCode: 0, kernelRelease: '6.18.44-fc-v669', ...overrides };
}

test('versions: criu and kernel releases become numbers', () => {
  assert.deepEqual(parseCriuVersion('Version: 3.17.1\n'), [3, 17, 1]);
  assert.deepEqual(parseCriuVersion('Version: 4.2\nGitID: v4.2\n'), [4, 2, 0]);
  assert.equal(parseCriuVersion('criu: command not understood'), undefined);
  assert.deepEqual(parseKernelRelease('6.18.44-fc-v669'), [6, 18, 44]);
  assert.deepEqual(parseKernelRelease('6.1.0-37-amd64'), [6, 1, 0]);
  assert.equal(parseKernelRelease('unknown'), undefined);
});

test('the first error line of criu output, without its source location', () => {
  assert.equal(firstCriuError(BOOKWORM_CHECK), 'vdso: Failed to fill self vdso symtable');
  assert.equal(firstCriuError('Looks good.\n'), undefined);
});

test("bookworm's CRIU 3.17.1 on Linux 6.13 or newer: the split vDSO data mapping", () => {
  const reason = criuUnsupportedReason(probe({ versionOutput: 'Version: 3.17.1\n', checkOutput: `(00.009211) Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds\n${BOOKWORM_CHECK}`, checkExitCode: 1 }));
  assert.match(reason ?? '', /CRIU 3\.17\.1 cannot run on Linux 6\.18\.44-fc-v669/);
  assert.match(reason ?? '', /vvar_vclock/);
  assert.match(reason ?? '', /from 4\.1 on/);
});

test('CRIU 4.1 passes its check on Linux 6.16 or newer but cannot save inet sockets', () => {
  const reason = criuUnsupportedReason(probe({ versionOutput: 'Version: 4.1.1\n' }));
  assert.match(reason ?? '', /CRIU 4\.1\.1 cannot save a TCP or UDP socket on Linux 6\.18/);
  assert.match(reason ?? '', /SO_PASSCRED/);
  assert.equal(criuUnsupportedReason(probe({ versionOutput: 'Version: 4.1.1\n', kernelRelease: '6.12.30-amd64' })), undefined, 'older kernels are fine');
});

test('a recent CRIU with a passing check is usable; a missing or failing one is named', () => {
  assert.equal(criuUnsupportedReason(probe({})), undefined);
  assert.match(criuUnsupportedReason(probe({ versionOutput: undefined })) ?? '', /criu is not installed/);
  assert.match(criuUnsupportedReason(probe({ checkOutput: 'Error (criu/cr-check.c:10): seccomp: no filter dumping\n', checkExitCode: 1 })) ?? '', /`criu check` fails on this host: seccomp: no filter dumping/);
  assert.match(criuUnsupportedReason(probe({ versionOutput: 'garbage' })) ?? '', /cannot read the version/);
});
