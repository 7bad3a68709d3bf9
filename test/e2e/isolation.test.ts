// Isolation of the namespaces backend: processes, files, host, symlinks, limits and cleanup.
import assert from 'node:assert/strict';
import path from 'node:path';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { Sandbox } from 'e2b';
import { startServer, useServerEnv, type ServerProcess } from '../helpers/server-process.js';
import { eventually, withSandbox } from '../helpers/sandbox-fixture.js';
import { sandboxCgroupDir } from '../helpers/test-run.js';

let server: ServerProcess;
before(async () => {
  server = await startServer();
  useServerEnv(server);
});
after(async () => server.destroy());

test('a sandbox sees only its own processes, files, hostname and network', async () => {
  await withSandbox(async (a) => {
    await withSandbox(async (b) => {
      await a.commands.run('sleep 300', { background: true });
      await a.files.write('/home/user/only-in-a.txt', 'a');
      const psB = (await b.commands.run('ps -eo pid,args')).stdout;
      assert.doesNotMatch(psB, /sleep 300/);
      assert.equal(await b.files.exists('/home/user/only-in-a.txt'), false);
      assert.equal((await b.commands.run('hostname')).stdout.trim(), b.sandboxId);
      assert.equal((await b.commands.run('cat /etc/hostname')).stdout.trim(), b.sandboxId);
      const pid1 = (await b.commands.run('cat /proc/1/cmdline | tr "\\0" " "', { user: 'root' })).stdout;
      assert.match(pid1, /hearth-supervisor/);
      const links = (await b.commands.run('ip -o link')).stdout.trim().split('\n');
      assert.deepEqual(links.map((link) => link.split(':')[1]?.trim().replace(/@.*/, '')), ['lo', 'eth0'], `loopback and its own veth only: ${links.join(' | ')}`);
      const addressA = (await a.commands.run('hostname -I')).stdout.trim();
      const addressB = (await b.commands.run('hostname -I')).stdout.trim();
      assert.notEqual(addressA, addressB, 'each sandbox has its own address');
    });
  });
});

test('host files are out of reach, including through a planted symlink', async () => {
  const hostMarker = readFileSync('/etc/hostname', 'utf8');
  await withSandbox(async (sbx) => {
    await sbx.commands.run('ln -s / /home/user/host');
    const throughLink = await sbx.files.read('/home/user/host/etc/hostname');
    assert.equal(throughLink.trim(), sbx.sandboxId, 'the link resolves inside the sandbox');
    assert.notEqual(throughLink, hostMarker);
    const traversal = await sbx.files.read('../../etc/hostname');
    assert.equal(traversal.trim(), sbx.sandboxId);
    await assert.rejects(sbx.files.read('../../etc/shadow'), /permission|denied|403/i);
    const listing = (await sbx.files.list('/home/user/host/')).map((e) => e.name);
    assert.ok(!listing.includes('work'), 'the host root filesystem is not visible');
    assert.equal(await sbx.files.exists('/work/main/package.json'), false);
    const rootView = (await sbx.commands.run('cat /proc/self/uid_map', { user: 'root' })).stdout.trim().split(/\s+/);
    assert.deepEqual(rootView.slice(0, 2), ['0', '100000'], 'sandbox root is an unprivileged host uid');
    await assert.rejects(sbx.commands.run('mount -t tmpfs none /mnt', { user: 'root' }));
  });
});

test('memory and pids limits stop the sandbox, not the server', async () => {
  await withSandbox(async (sbx) => {
    const hog = await sbx.commands
      .run('python3 -c "b = bytearray(2 * 1024 * 1024 * 1024); print(len(b))"', { timeoutMs: 60_000 })
      .then((r) => r.exitCode, (error: { exitCode?: number }) => error.exitCode);
    assert.notEqual(hog, 0, 'a 2 GiB allocation fails inside a 512 MiB sandbox');
    const forks = await sbx.commands
      .run('for i in $(seq 1 2000); do sleep 30 & done; wait', { timeoutMs: 60_000 })
      .then((r) => r.stderr, (error: { stderr?: string }) => error.stderr ?? '');
    assert.match(forks, /fork|Resource temporarily unavailable|retry/i);
    await sbx.commands.run('pkill sleep || true', { user: 'root' }).catch(() => undefined);
    const health = await fetch(`${server.url}/health`);
    assert.equal(health.status, 200);
    assert.equal((await sbx.commands.run('echo alive')).stdout, 'alive\n');
  });
});

test('killing a sandbox leaves no process, cgroup or directory behind', async () => {
  const sbx = await Sandbox.create();
  await sbx.commands.run('sleep 300 & sleep 300 & echo started', { background: false });
  const sandboxDir = `${server.dataDir}/sandboxes/${sbx.sandboxId}`;
  assert.ok(existsSync(sandboxDir));
  const memoryCgroup = sandboxCgroupDir('memory', server.dataDir, sbx.sandboxId);
  assert.ok(existsSync(memoryCgroup));
  const procs = readFileSync(`${memoryCgroup}/cgroup.procs`, 'utf8').trim().split('\n').map(Number);
  assert.ok(procs.length >= 3);
  await sbx.kill();
  assert.equal(existsSync(memoryCgroup), false, 'cgroups are gone when kill returns');
  await eventually(() => !existsSync(sandboxDir), 5_000, 'the sandbox directory to be removed');
  // Killed processes are reparented to the host's init, which reaps them; none may stay alive.
  await eventually(() => procs.every((pid) => !existsSync(`/proc/${pid}`)), 5_000, `sandbox pids ${procs.join(', ')} to be gone`);
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8');
  assert.equal(mounts.includes(sbx.sandboxId), false);
  assert.equal(readdirSync(`${server.dataDir}/sandboxes`).includes(sbx.sandboxId), false);
});

test('per-create limits: CPU and memory asked for at create are enforced and shown by getInfo', async () => {
  const response = await fetch(`${server.url}/sandboxes`, {
    method: 'POST',
    headers: { 'x-api-key': server.apiKey, 'content-type': 'application/json' },
    body: JSON.stringify({ templateID: 'base', cpuCount: 1, memoryMB: 256 }),
  });
  assert.equal(response.status, 201);
  const sbx = await Sandbox.connect(((await response.json()) as { sandboxID: string }).sandboxID);
  try {
    const info = await sbx.getInfo();
    assert.equal(info.cpuCount, 1);
    assert.equal(info.memoryMB, 256);
    const setting = (controller: string, file: string): string => readFileSync(path.join(sandboxCgroupDir(controller, server.dataDir, sbx.sandboxId), file), 'utf8').trim();
    assert.equal(setting('memory', 'memory.limit_in_bytes'), String(256 * 1024 * 1024));
    assert.equal(setting('cpu', 'cpu.cfs_quota_us'), '100000');
    assert.equal((await sbx.commands.run('python3 -c "b = bytearray(100 * 1024 * 1024); print(len(b) > 0)"')).stdout, 'True\n');
    const hog = await sbx.commands.run('python3 -c "b = bytearray(400 * 1024 * 1024); print(len(b))"').then((r) => r.exitCode, (error: { exitCode?: number }) => error.exitCode);
    assert.notEqual(hog, 0, 'a 400 MiB allocation fails inside a 256 MiB sandbox');
  } finally {
    await sbx.kill();
  }
});
