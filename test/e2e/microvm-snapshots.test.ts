// microVM memory snapshots, on the backend directly: restored clones get their own randomness and hostname, the
// snapshot files are never written by restores, and a corrupt or foreign snapshot is refused.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, promises as fs, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { SandboxSpec, StartedSandbox } from '../../src/backends/backend.js';
import { MicrovmBackend } from '../../src/backends/microvm/microvm-backend.js';
import { DEFAULT_MICROVM_DIR } from '../../src/backends/microvm/microvm-options.js';
import { checkSnapshot, snapshotPaths } from '../../src/backends/microvm/memory-snapshots.js';
import { findQemu } from '../../src/backends/microvm/qemu-host-check.js';
import { SnapshotInvalidError, type SnapshotIdentity } from '../../src/backends/microvm/snapshot-header.js';
import type { TemplateRecord } from '../../src/store/store.js';
import { Fields } from '../../src/supervisor/frame-codec.js';
import { FieldTag } from '../../src/supervisor/protocol.js';
import { runToExit } from '../../src/supervisor/run-to-exit.js';
import { SupervisorClient } from '../../src/supervisor/supervisor-client.js';

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
  const workDir = path.join(os.tmpdir(), `hearth-microvm-test-${process.pid}`);
  const cgroupParent = `hearth-test/microvm-${process.pid}`;
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
    for (const controller of ['memory', 'pids', 'cpu', 'cpuacct', 'freezer']) await fs.rmdir(`/sys/fs/cgroup/${controller}/${cgroupParent}`).catch(() => undefined);
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
});
