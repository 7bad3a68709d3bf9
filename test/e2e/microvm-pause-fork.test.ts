// Pause/resume, fork and template services on the microVM backend through the e2b SDK: a Python process keeps
// its variable and pid across pause/resume cycles with a daemon restart in the middle, files are never lost,
// forks continue from their source independently, a persistent snapshot outlives its source, and a template's
// start command runs once, before its snapshot, not again in every restored sandbox.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Sandbox } from 'e2b';
import { DEFAULT_MICROVM_DIR } from '../../src/backends/microvm/microvm-options.js';
import { findQemu } from '../../src/backends/microvm/qemu-host-check.js';
import { runCli, startServer, useServerEnv, type ServerProcess } from '../helpers/server-process.js';
import { MEMORY_SERVER, readMemory } from '../helpers/memory-server.js';
import { testTempDir } from '../helpers/test-run.js';

const kernelDir = path.join(process.env['HEARTH_MICROVM_DIR'] ?? DEFAULT_MICROVM_DIR, 'kernel');
const hasKernel = existsSync(kernelDir) && readdirSync(kernelDir).some((name) => existsSync(path.join(kernelDir, name, 'vmlinux')));
const unavailable = !findQemu() ? 'QEMU is not installed' : !hasKernel ? 'no microVM guest kernel (scripts/build-guest-kernel.sh)' : undefined;
const ARGS = ['--backend', 'microvm', '--pool', 'base=0'];
/** Commands are slow under TCG (software CPU emulation). */
const COMMAND = { timeoutMs: 120_000 };

describe('microvm pause/resume, fork and template services', { skip: unavailable ?? false }, () => {
  let server: ServerProcess;

  before(async () => {
    server = await startServer({ args: ARGS });
    useServerEnv(server);
  });
  after(async () => server?.destroy());

  test('pause/resume cycles with a daemon restart in the middle keep a Python variable, the process and the files', async () => {
    let sbx = await Sandbox.create({ timeoutMs: 600_000, requestTimeoutMs: 600_000 });
    const id = sbx.sandboxId;
    try {
      await sbx.commands.run(MEMORY_SERVER, { background: true });
      const first = await readMemory(sbx, { commandTimeoutMs: COMMAND.timeoutMs });
      assert.match(first.secret, /^[0-9a-f]{16}$/);
      let lastCount = first.count;
      for (let cycle = 1; cycle <= 3; cycle++) {
        await sbx.files.write(`/home/user/cycle-${cycle}.txt`, `written before pause ${cycle}`);
        assert.equal(await sbx.pause(), true);
        assert.equal((await Sandbox.getInfo(id)).state, 'paused');
        if (cycle === 2) {
          await server.stop();
          server = await startServer({ dataDir: server.dataDir, args: ARGS });
          useServerEnv(server);
          assert.equal((await Sandbox.getInfo(id)).state, 'paused', 'still paused after the daemon restart');
        }
        sbx = await Sandbox.connect(id, { timeoutMs: 600_000 });
        const memory = await readMemory(sbx, { commandTimeoutMs: COMMAND.timeoutMs });
        assert.equal(memory.secret, first.secret, `cycle ${cycle}: the Python variable survived`);
        assert.equal(memory.pid, first.pid, `cycle ${cycle}: the same process`);
        assert.ok(memory.count > lastCount, `cycle ${cycle}: the counter continued`);
        lastCount = memory.count;
        for (let earlier = 1; earlier <= cycle; earlier++) assert.equal(await sbx.files.read(`/home/user/cycle-${earlier}.txt`), `written before pause ${earlier}`);
      }
      const clock = Number((await sbx.commands.run('date +%s', COMMAND)).stdout.trim());
      assert.ok(Math.abs(clock - Date.now() / 1000) < 5, 'the resumed guest’s clock was set to now');
    } finally {
      await Sandbox.kill(id).catch(() => undefined);
    }
  });

  test('forks continue from the source’s memory and files, and are independent of it and of each other', async () => {
    const source = await Sandbox.create({ timeoutMs: 600_000, requestTimeoutMs: 600_000 });
    const forks: Sandbox[] = [];
    try {
      await source.commands.run(MEMORY_SERVER, { background: true });
      const before = await readMemory(source, { commandTimeoutMs: COMMAND.timeoutMs });
      await source.files.write('/home/user/shared.txt', 'before the fork');
      for (const result of await source.fork({ count: 2, timeoutMs: 600_000, requestTimeoutMs: 600_000 })) {
        if (result instanceof Error) throw result;
        forks.push(result);
      }
      const [forkA, forkB] = forks;
      assert.ok(forkA && forkB);
      assert.notEqual(forkA.sandboxId, forkB.sandboxId);
      for (const sandbox of [forkA, forkB]) {
        const memory = await readMemory(sandbox, { commandTimeoutMs: COMMAND.timeoutMs });
        assert.equal(memory.secret, before.secret, 'the fork continues the source’s process');
        assert.equal(await sandbox.files.read('/home/user/shared.txt'), 'before the fork');
      }
      assert.equal((await source.commands.run('hostname', COMMAND)).stdout.trim(), source.sandboxId);
      assert.equal((await forkA.commands.run('hostname', COMMAND)).stdout.trim(), forkA.sandboxId);
      await forkA.files.write('/home/user/shared.txt', 'fork A');
      await source.files.write('/home/user/shared.txt', 'source');
      assert.equal(await forkB.files.read('/home/user/shared.txt'), 'before the fork');
      assert.equal(await forkA.files.read('/home/user/shared.txt'), 'fork A');
      assert.equal(await source.files.read('/home/user/shared.txt'), 'source');
    } finally {
      for (const sandbox of [source, ...forks]) await sandbox.kill().catch(() => undefined);
    }
  });

  test('a persistent snapshot (createSnapshot) outlives its source and restores its memory and files', async () => {
    const source = await Sandbox.create({ timeoutMs: 600_000, requestTimeoutMs: 600_000 });
    let snapshotId = '';
    try {
      await source.commands.run(MEMORY_SERVER, { background: true });
      const before = await readMemory(source, { commandTimeoutMs: COMMAND.timeoutMs });
      await source.files.write('/home/user/saved.txt', 'in the snapshot');
      snapshotId = (await source.createSnapshot({ name: 'microvm-saved', requestTimeoutMs: 600_000 })).snapshotId;
      await source.kill();
      const restored = await Sandbox.create('microvm-saved', { timeoutMs: 600_000, requestTimeoutMs: 600_000 });
      try {
        assert.equal((await readMemory(restored, { commandTimeoutMs: COMMAND.timeoutMs })).secret, before.secret);
        assert.equal(await restored.files.read('/home/user/saved.txt'), 'in the snapshot');
        assert.equal((await restored.commands.run('hostname', COMMAND)).stdout.trim(), restored.sandboxId);
      } finally {
        await restored.kill();
      }
    } finally {
      await source.kill().catch(() => undefined);
      if (snapshotId) assert.equal(await Sandbox.deleteSnapshot(snapshotId), true);
    }
  });

  test('a template’s start command runs once, before the snapshot: restored sandboxes find it running and do not start it again', async () => {
    const contextDir = testTempDir('microvm-template-');
    try {
      const dockerfile = path.join(contextDir, 'Dockerfile');
      writeFileSync(dockerfile, [
        'FROM base',
        `CMD sh -c 'date +%s%N > /tmp/service-started; exec python3 -m http.server 8080 --bind 127.0.0.1'`,
      ].join('\n'));
      const built = await runCli(server, ['template', 'build', '-f', dockerfile, '-t', 'microvm-service', '--ready-cmd', 'curl -sf http://127.0.0.1:8080/ >/dev/null', contextDir]);
      assert.equal(built.code, 0, built.stdout + built.stderr);
      const first = await Sandbox.create('microvm-service', { timeoutMs: 600_000, requestTimeoutMs: 600_000 }); // boots and takes the snapshot
      await first.kill();
      const createdAtNs = BigInt(Date.now()) * 1_000_000n;
      const restored = await Sandbox.create('microvm-service', { timeoutMs: 600_000, requestTimeoutMs: 600_000 });
      try {
        const startedNs = BigInt((await restored.files.read('/tmp/service-started')).trim());
        assert.ok(startedNs < createdAtNs, 'the service was started before this sandbox was created (in the snapshot)');
        assert.equal((await restored.commands.run('curl -s -o /dev/null -w "%{http_code}" http://127.0.0.1:8080/', COMMAND)).stdout, '200');
        const services = (await restored.commands.run('pgrep -c -x -f "python3 -m http.server 8080 --bind 127.0.0.1"', COMMAND)).stdout.trim();
        assert.equal(services, '1', 'exactly one service process');
      } finally {
        await restored.kill();
      }
    } finally {
      rmSync(contextDir, { recursive: true, force: true });
    }
  });
});
