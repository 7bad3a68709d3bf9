// Pause and resume with memory on the gVisor backend through the e2b SDK: a Python process keeps its variables
// across 10 pause/resume cycles with a daemon restart in the middle (which also changes the server's runsc
// platform: an image resumes on the platform that saved it), files are never lost, paused sandboxes show as
// paused, auto-pause on timeout works, and a corrupt, truncated or foreign pause image is refused.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Sandbox } from 'e2b';
import { findRunsc, RUNSC_INSTALL_HINT } from '../../src/backends/gvisor/gvisor-host-check.js';
import { eventually } from '../helpers/sandbox-fixture.js';
import { startServer, useServerEnv, type ServerProcess } from '../helpers/server-process.js';
import { MEMORY_SERVER, readMemory } from '../helpers/memory-server.js';
import { sandboxCgroupDir } from '../helpers/test-run.js';

const skip = findRunsc() ? false : `runsc is not installed: ${RUNSC_INSTALL_HINT}`;
const ARGS = ['--backend', 'gvisor', '--pool', 'base=0'];
let server: ServerProcess;

before(async () => {
  if (skip) return;
  server = await startServer({ args: ARGS, env: { HEARTH_GVISOR_PLATFORM: 'systrap' } });
  useServerEnv(server);
});
after(async () => server?.destroy());

async function state(sandboxId: string): Promise<string> {
  return (await Sandbox.getInfo(sandboxId)).state;
}

test('10 pause/resume cycles with a daemon restart (to another runsc platform) in the middle keep a Python variable, the process and the files', { skip }, async () => {
  let sbx = await Sandbox.create({ timeoutMs: 300_000 });
  const id = sbx.sandboxId;
  try {
    await sbx.commands.run(MEMORY_SERVER, { background: true });
    const first = await readMemory(sbx);
    assert.match(first.secret, /^[0-9a-f]{16}$/);
    let lastCount = first.count;
    for (let cycle = 1; cycle <= 10; cycle++) {
      await sbx.files.write(`/home/user/cycle-${cycle}.txt`, `written before pause ${cycle}`);
      await sbx.commands.run(`echo cycle ${cycle} >> /home/user/log.txt`);
      assert.equal(await sbx.pause(), true);
      assert.equal(await state(id), 'paused');
      const listed = await Sandbox.list({ query: { state: ['paused'] } }).nextItems();
      assert.ok(listed.some((info) => info.sandboxId === id && info.state === 'paused'), 'the list shows it paused');
      assert.equal(await Sandbox.pause(id), false, 'pausing a paused sandbox reports it was paused already');
      if (cycle === 5) {
        await server.stop();
        // runsc restores an image only on the platform that saved it: the new default must not apply to it
        server = await startServer({ dataDir: server.dataDir, args: ARGS, env: { HEARTH_GVISOR_PLATFORM: 'ptrace' } });
        useServerEnv(server);
        assert.equal(await state(id), 'paused', 'still paused after the daemon restart');
      }
      sbx = await Sandbox.connect(id, { timeoutMs: 300_000 });
      assert.equal(await state(id), 'running');
      const memory = await readMemory(sbx);
      assert.equal(memory.secret, first.secret, `cycle ${cycle}: the Python variable survived`);
      assert.equal(memory.pid, first.pid, `cycle ${cycle}: the same process`);
      assert.ok(memory.count > lastCount, `cycle ${cycle}: the counter continued (${memory.count} > ${lastCount})`);
      lastCount = memory.count;
      for (let earlier = 1; earlier <= cycle; earlier++) {
        assert.equal(await sbx.files.read(`/home/user/cycle-${earlier}.txt`), `written before pause ${earlier}`);
      }
      assert.equal((await sbx.commands.run('wc -l < /home/user/log.txt')).stdout.trim(), String(cycle));
    }
  } finally {
    await Sandbox.kill(id).catch(() => undefined);
  }
});

test('a paused sandbox frees its processes, keeps its network, and can be killed while paused', { skip }, async () => {
  const sbx = await Sandbox.create({ timeoutMs: 120_000 });
  const address = (await sbx.commands.run('hostname -I')).stdout.trim();
  await sbx.pause();
  const procs = path.join(sandboxCgroupDir('pids', server.dataDir, sbx.sandboxId), 'cgroup.procs');
  // the sentry's leftovers are deleted in the background once the image is written
  await eventually(async () => (await fs.readFile(procs, 'utf8').catch(() => '')).trim() === '', 15_000, 'no host process left while paused');
  const resumed = await Sandbox.connect(sbx.sandboxId);
  assert.equal((await resumed.commands.run('hostname -I')).stdout.trim(), address, 'same address after resume');
  assert.match((await resumed.commands.run('curl -s -o /dev/null -w "%{http_code}" -X PUT http://169.254.169.254/latest/api/token')).stdout, /200/, 'metadata service answers');
  await resumed.pause();
  await Sandbox.kill(sbx.sandboxId);
  await assert.rejects(Sandbox.getInfo(sbx.sandboxId));
});

test('auto-pause on timeout (lifecycle.onTimeout: pause) pauses instead of killing, and connect resumes', { skip }, async () => {
  const sbx = await Sandbox.create({ timeoutMs: 10_000, lifecycle: { onTimeout: 'pause' } });
  try {
    await sbx.commands.run(MEMORY_SERVER, { background: true });
    const before = await readMemory(sbx);
    assert.equal((await Sandbox.getInfo(sbx.sandboxId)).lifecycle?.onTimeout, 'pause');
    await eventually(async () => (await state(sbx.sandboxId)) === 'paused', 30_000, 'the timeout to pause the sandbox');
    const resumed = await Sandbox.connect(sbx.sandboxId, { timeoutMs: 60_000 });
    assert.equal((await readMemory(resumed)).secret, before.secret);
  } finally {
    await Sandbox.kill(sbx.sandboxId).catch(() => undefined);
  }
});

test('a corrupt, truncated or foreign pause image is refused with snapshot_invalid and nothing is restored', { skip }, async () => {
  const sbx = await Sandbox.create({ timeoutMs: 120_000 });
  const other = await Sandbox.create({ timeoutMs: 120_000 });
  try {
    await sbx.commands.run(MEMORY_SERVER, { background: true });
    const before = await readMemory(sbx);
    await sbx.pause();
    await other.pause();
    const imageDir = path.join(server.dataDir, 'gvisor', 'sandboxes', sbx.sandboxId, 'checkpoint');
    const otherDir = path.join(server.dataDir, 'gvisor', 'sandboxes', other.sandboxId, 'checkpoint');
    const image = path.join(imageDir, 'checkpoint.img');
    const manifest = path.join(imageDir, 'hearth-checkpoint.manifest');
    const goodImage = await fs.readFile(image);
    const goodManifest = await fs.readFile(manifest);
    const resumeStatus = async (): Promise<{ status: number; errorCode: string }> => {
      const response = await fetch(`${server.url}/sandboxes/${sbx.sandboxId}/resume`, { method: 'POST', headers: { 'x-api-key': server.apiKey, 'content-type': 'application/json' }, body: '{}' });
      return { status: response.status, errorCode: ((await response.json()) as { errorCode: string }).errorCode };
    };
    const corrupt = Buffer.from(goodImage);
    corrupt[Math.floor(corrupt.length / 2)] = (corrupt[Math.floor(corrupt.length / 2)] ?? 0) ^ 0xff;
    const cases: Array<[string, () => Promise<void>]> = [
      ['a flipped byte in the image', () => fs.writeFile(image, corrupt)],
      ['a truncated image', () => fs.writeFile(image, goodImage.subarray(0, goodImage.length - 100))],
      ['a truncated manifest', () => fs.writeFile(manifest, goodManifest.subarray(0, 20))],
      ['another sandbox’s image', async () => {
        await fs.writeFile(image, await fs.readFile(path.join(otherDir, 'checkpoint.img')));
        await fs.writeFile(manifest, await fs.readFile(path.join(otherDir, 'hearth-checkpoint.manifest')));
      }],
    ];
    for (const [what, damage] of cases) {
      await damage();
      assert.deepEqual(await resumeStatus(), { status: 422, errorCode: 'snapshot_invalid' }, what);
      assert.equal(await state(sbx.sandboxId), 'paused', `${what}: still paused, nothing half-restored`);
      await fs.writeFile(image, goodImage);
      await fs.writeFile(manifest, goodManifest);
    }
    const resumed = await Sandbox.connect(sbx.sandboxId);
    assert.equal((await readMemory(resumed)).secret, before.secret, 'the intact image resumes');
  } finally {
    await Sandbox.kill(sbx.sandboxId).catch(() => undefined);
    await Sandbox.kill(other.sandboxId).catch(() => undefined);
  }
});
