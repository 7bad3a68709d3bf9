// microVM memory snapshots, on the backend directly: restored clones get their own randomness and hostname, the
// snapshot files are never written by restores, and a corrupt or foreign snapshot is refused; pause/resume keeps
// processes, memory and files, and forks are independent of their source and of each other.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, promises as fs, readdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { SandboxSpec, StartedSandbox } from '../../src/backends/backend.js';
import { MicrovmBackend } from '../../src/backends/microvm/microvm-backend.js';
import { DEFAULT_MICROVM_DIR } from '../../src/backends/microvm/microvm-options.js';
import { checkSnapshot, snapshotPaths } from '../../src/backends/microvm/memory-snapshots.js';
import { findQemu } from '../../src/backends/microvm/qemu-host-check.js';
import { SnapshotInvalidError, type SnapshotIdentity } from '../../src/backends/microvm/snapshot-header.js';
import { SnapshotInvalidError as CheckedSnapshotError } from '../../src/errors/snapshot-errors.js';
import type { TemplateRecord } from '../../src/store/store.js';
import { Fields } from '../../src/supervisor/frame-codec.js';
import { FieldTag } from '../../src/supervisor/protocol.js';
import { runToExit } from '../../src/supervisor/run-to-exit.js';
import { SupervisorClient } from '../../src/supervisor/supervisor-client.js';
import { removeFromAllHierarchies } from '../../src/backends/namespaces/cgroup-v1.js';
import { TEST_CGROUP_ROOT, testTempDir } from '../helpers/test-run.js';

const microvmDir = process.env['HEARTH_MICROVM_DIR'] ?? DEFAULT_MICROVM_DIR;
const templatesDir = process.env['HEARTH_TEMPLATES_DIR'] ?? '/var/lib/hearth/templates';
const supervisorBinary = path.resolve('native/supervisor/build/hearth-supervisor');

function baseLayer(): string | undefined {
  const dir = path.join(templatesDir, 'base');
  const builds = existsSync(dir) ? readdirSync(dir).filter((name) => existsSync(path.join(dir, name, 'rootfs'))) : [];
  return builds.length ? path.join(dir, builds.sort().at(-1) ?? '', 'rootfs') : undefined;
}

const layer = baseLayer();
const unavailable = !findQemu() ? 'QEMU is not installed' : !layer ? `no base template under ${templatesDir}` : undefined;

async function sha256(file: string): Promise<string> {
  return createHash('sha256').update(await fs.readFile(file)).digest('hex');
}

describe('microvm memory snapshots', { skip: unavailable ?? false }, () => {
  const template = { id: 'base', layers: [layer ?? ''], config: { labels: {} } } as unknown as TemplateRecord;
  const workDir = testTempDir('microvm-');
  const cgroupParent = `${TEST_CGROUP_ROOT}/microvm-${process.pid}`;
  const backend = new MicrovmBackend({
    sandboxesDir: path.join(workDir, 'sandboxes'),
    microvmDir,
    supervisorBinary,
    cgroupParent,
    bootTimeoutMs: 60_000,
    snapshots: true,
    log: () => undefined,
  });
  const spec = (id: string): SandboxSpec => ({
    sandboxId: id, hostname: id, template, cpuCount: 1, memoryMiB: 384, pidsLimit: 128, diskMiB: 1024,
    baseEnv: { PATH: '/usr/bin:/bin' }, network: 'none', toolsMount: false,
  });
  const started: StartedSandbox[] = [];
  const run = async (sandbox: StartedSandbox, script: string): Promise<string> => {
    const client = await SupervisorClient.connect({ socketPath: sandbox.endpoint.socketPath, connectTimeoutMs: 10_000 });
    let out = '';
    try {
      await runToExit(client, new Fields().addAll(FieldTag.arg, ['sh', '-c', script]).add(FieldTag.user, 'user'), (data) => (out += data.toString()));
    } finally {
      client.close();
    }
    return out;
  };
  let snapshotDir = '';
  let identity: SnapshotIdentity;

  before(async () => {
    await backend.checkHost();
    const snapshot = await backend.snapshotFor(spec('x'));
    snapshotDir = snapshot.paths.dir;
    identity = snapshot.identity;
  });
  after(async () => {
    for (const sandbox of started) await backend.stop(sandbox.runtime).catch(() => undefined);
    await backend.close();
    await fs.rm(workDir, { recursive: true, force: true });
    await removeFromAllHierarchies(cgroupParent);
  });

  test('two sandboxes restored from one snapshot differ in randomness and hostname; restores never change the snapshot', async () => {
    const first = await backend.start(spec(`mva${process.pid}`)); // boots and takes the snapshot if there is none
    started.push(first);
    const paths = snapshotPaths(snapshotDir);
    const before = await Promise.all([paths.header, paths.state, paths.ram, paths.disk].map(sha256));
    const a = await backend.start(spec(`mvb${process.pid}`));
    const b = await backend.start(spec(`mvc${process.pid}`));
    started.push(a, b);
    assert.match(String(a.runtime['origin']), /^(restore|prespawned)$/);
    assert.match(String(b.runtime['origin']), /^(restore|prespawned)$/);
    const [outA, outB] = await Promise.all([a, b].map((sandbox) => run(sandbox, 'hostname; cat /proc/sys/kernel/random/uuid; head -c 16 /dev/urandom | od -An -tx1')));
    const [hostA, uuidA, randA] = (outA ?? '').split('\n');
    const [hostB, uuidB, randB] = (outB ?? '').split('\n');
    assert.equal(hostA, `mvb${process.pid}`);
    assert.equal(hostB, `mvc${process.pid}`);
    assert.notEqual(uuidA, uuidB);
    assert.notEqual(randA, randB);
    await run(a, 'echo scribble > /home/user/x; sync');
    const afterRestores = await Promise.all([paths.header, paths.state, paths.ram, paths.disk].map(sha256));
    assert.deepEqual(afterRestores, before, 'the snapshot files are byte-for-byte unchanged');
  });

  test('a corrupt or foreign snapshot is refused with SnapshotInvalidError', async () => {
    const copy = snapshotPaths(path.join(workDir, 'corrupt'));
    await fs.mkdir(copy.dir, { recursive: true });
    const real = snapshotPaths(snapshotDir);
    for (const name of ['header', 'state', 'ram', 'disk'] as const) await fs.copyFile(real[name], copy[name]);
    await checkSnapshot(copy, identity, new Set());
    await assert.rejects(checkSnapshot(copy, { ...identity, kernel: 'another-kernel' }, new Set()), SnapshotInvalidError);
    await assert.rejects(checkSnapshot(copy, { ...identity, template: 'another-template' }, new Set()), SnapshotInvalidError);
    await assert.rejects(checkSnapshot(copy, { ...identity, rootImage: 'root-rebuilt.ext4@1' }, new Set()), /root image/, 'a rebuilt root image invalidates the snapshot');
    const state = await fs.readFile(copy.state);
    const middle = Math.floor(state.length / 2);
    state[middle] = (state[middle] ?? 0) ^ 0xff;
    await fs.writeFile(copy.state, state);
    await assert.rejects(checkSnapshot(copy, identity, new Set()), /device state file checksum mismatch/);
    const header = await fs.readFile(copy.header);
    header[20] = (header[20] ?? 0) ^ 0xff;
    await fs.writeFile(copy.header, header);
    await assert.rejects(checkSnapshot(copy, identity, new Set()), SnapshotInvalidError);
    await fs.writeFile(copy.header, Buffer.from('not a snapshot'));
    await assert.rejects(checkSnapshot(copy, identity, new Set()), /bad magic/);
  });

  /** A background process whose pid, start time and in-memory (tmpfs) state must survive; a file on the disk too. */
  const MARK = 'pid=$(cat /dev/shm/pid); echo "$pid $(cut -d" " -f22 /proc/$pid/stat) $(cat /dev/shm/secret) $(cat /home/user/file)"';

  test('pause frees the guest and resume brings back the same processes, memory and files', async () => {
    const sandbox = await backend.start(spec(`mvp${process.pid}`));
    started.push(sandbox);
    await run(sandbox, 'sleep 10000 >/dev/null 2>&1 & echo $! > /dev/shm/pid; cat /proc/sys/kernel/random/uuid > /dev/shm/secret; echo on-disk > /home/user/file; sync');
    const before = await run(sandbox, MARK);
    assert.match(before, /^\d+ \d+ [0-9a-f-]{36} on-disk\n$/);
    let runtime = sandbox.runtime;
    for (let cycle = 0; cycle < 3; cycle++) {
      runtime = await backend.pause(runtime);
      sandbox.runtime = runtime;
      assert.equal(await backend.isAlive(runtime), false, 'no QEMU runs while paused');
      assert.ok(existsSync(path.join(String(runtime['dir']), 'paused', 'header')));
      runtime = await backend.resume(runtime);
      sandbox.runtime = runtime;
      assert.equal(await backend.isAlive(runtime), true);
      assert.equal(await run(sandbox, MARK), before, `cycle ${cycle}: same process, memory and file`);
    }
    await run(sandbox, 'echo after > /home/user/file2');
    assert.equal(await run(sandbox, 'cat /home/user/file2'), 'after\n');
  });

  test('a corrupt pause image is refused and the sandbox stays paused, whole', async () => {
    const sandbox = await backend.start(spec(`mvq${process.pid}`));
    started.push(sandbox);
    await run(sandbox, 'echo kept > /home/user/file; sync');
    const paused = await backend.pause(sandbox.runtime);
    sandbox.runtime = paused;
    const state = path.join(String(paused['dir']), 'paused', 'state');
    const original = await fs.readFile(state);
    const bad = Buffer.from(original);
    bad[Math.floor(bad.length / 2)] = (bad[Math.floor(bad.length / 2)] ?? 0) ^ 0xff;
    await fs.writeFile(state, bad);
    await assert.rejects(backend.resume(paused), CheckedSnapshotError);
    assert.equal(await backend.isAlive(paused), false);
    await fs.writeFile(state, original);
    sandbox.runtime = await backend.resume(paused);
    assert.equal(await run(sandbox, 'cat /home/user/file'), 'kept\n');
  });

  test('forks continue from the source and are independent of it and of each other', async () => {
    const source = await backend.start(spec(`mvs${process.pid}`));
    started.push(source);
    await run(source, 'sleep 10000 >/dev/null 2>&1 & echo $! > /dev/shm/pid; cat /proc/sys/kernel/random/uuid > /dev/shm/secret; echo on-disk > /home/user/file; sync');
    const mark = await run(source, MARK);
    const image = path.join(workDir, 'fork-image');
    const snapshot = await backend.snapshot(source.runtime, image);
    assert.equal(await backend.isAlive(source.runtime), true, 'the source runs on');
    const forkA = await backend.restore(spec(`mvt${process.pid}`), snapshot);
    started.push(forkA);
    const forkB = await backend.restore(spec(`mvu${process.pid}`), snapshot);
    started.push(forkB);
    for (const sandbox of [source, forkA, forkB]) assert.equal(await run(sandbox, MARK), mark);
    assert.equal(await run(forkA, 'hostname'), `mvt${process.pid}\n`);
    assert.notEqual(await run(forkA, 'cat /proc/sys/kernel/random/uuid'), await run(forkB, 'cat /proc/sys/kernel/random/uuid'));
    await run(forkA, 'echo fork-a > /home/user/file; echo a > /dev/shm/secret');
    await run(source, 'echo source > /home/user/file');
    assert.equal(await run(forkB, 'cat /home/user/file /dev/shm/secret'), `on-disk\n${mark.split(' ')[2]}\n`);
    assert.equal(await run(forkA, 'cat /home/user/file'), 'fork-a\n');
    assert.equal(await run(source, 'cat /home/user/file'), 'source\n');
    await assert.rejects(backend.restore({ ...spec(`mvv${process.pid}`), template: { ...template, config: { ...template.config, startCmd: 'sleep 1' } } }, snapshot), CheckedSnapshotError, 'a fork image of another template is refused');
  });
});
