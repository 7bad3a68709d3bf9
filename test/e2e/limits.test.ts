// Limits per create and per template: pids, memory and disk are shown by getInfo and list, enforced,
// and a sandbox that hits one leaves other sandboxes and the server responsive; bad values are typed 400s.
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { randomBytes } from 'node:crypto';
import { Sandbox } from 'e2b';
import { startServer, useServerEnv, type ServerProcess } from '../helpers/server-process.js';
import { eventually, withSandbox } from '../helpers/sandbox-fixture.js';
import { apiRequest, type ApiResponse } from '../helpers/api-request.js';
import { sandboxCgroupDir, testTempDir } from '../helpers/test-run.js';

let server: ServerProcess;
before(async () => {
  server = await startServer({ args: ['--pool', 'base=1'] });
  useServerEnv(server);
});
after(async () => server.destroy());

const api = (method: string, route: string, body?: unknown): Promise<ApiResponse> => apiRequest(server, method, route, body);

/** Creates a sandbox with Hearth's limit fields (the SDK cannot send them), connects the SDK, always kills it. */
async function withLimits<T>(fields: Record<string, unknown>, body: (sbx: Sandbox) => Promise<T>): Promise<T> {
  const created = await api('POST', '/sandboxes', { templateID: 'base', timeout: 300, ...fields });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  const sbx = await Sandbox.connect(String(created.json['sandboxID']));
  try {
    return await body(sbx);
  } finally {
    await sbx.kill().catch(() => undefined);
  }
}

function cgroupFile(controller: string, sandboxId: string, file: string): string {
  return readFileSync(path.join(sandboxCgroupDir(controller, server.dataDir, sandboxId), file), 'utf8').trim();
}

async function failure(run: Promise<unknown>): Promise<{ exitCode: number; stderr: string }> {
  return run.then(
    () => ({ exitCode: 0, stderr: '' }),
    (error: { exitCode?: number; stderr?: string }) => ({ exitCode: error.exitCode ?? -1, stderr: error.stderr ?? '' }),
  );
}

/** Another sandbox runs a command and the API answers. */
async function assertOthersResponsive(): Promise<void> {
  await withSandbox(async (other) => assert.equal((await other.commands.run('echo ok')).stdout, 'ok\n'));
  assert.equal((await api('GET', '/health')).status, 200);
  assert.equal((await api('GET', '/v2/sandboxes')).status, 200);
}

test('pidsLimit and diskSizeMB asked for at create are shown by getInfo and list and set the pids cgroup', async () => {
  await withLimits({ pidsLimit: 100, diskSizeMB: 256, memoryMB: 384 }, async (sbx) => {
    const info = await sbx.getInfo();
    assert.equal(info.memoryMB, 384);
    const detail = await api('GET', `/sandboxes/${sbx.sandboxId}`);
    assert.equal(detail.json['pidsLimit'], 100);
    assert.equal(detail.json['diskSizeMB'], 256);
    const listed = (await api('GET', '/v2/sandboxes')).json as unknown as Array<Record<string, unknown>>;
    const mine = listed.find((row) => row['sandboxID'] === sbx.sandboxId);
    assert.equal(mine?.['pidsLimit'], 100);
    assert.equal(mine?.['diskSizeMB'], 256);
    assert.equal(cgroupFile('pids', sbx.sandboxId, 'pids.max'), '100');
  });
  await withSandbox(async (sbx) => {
    const detail = await api('GET', `/sandboxes/${sbx.sandboxId}`);
    assert.equal(detail.json['pidsLimit'], 512, 'the server default');
    assert.equal(detail.json['diskSizeMB'], 10 * 1024, 'the server default');
  });
});

test('a fork bomb stops at pidsLimit, and other sandboxes and the server stay responsive', async () => {
  await withLimits({ pidsLimit: 64, cpuCount: 1 }, async (sbx) => {
    const forks = await sbx.commands.run(
      `python3 -c '
import os, time
children, refused = [], None
try:
    for _ in range(1000):
        pid = os.fork()
        if pid == 0:
            time.sleep(60)
            os._exit(0)
        children.append(pid)
except OSError as error:
    refused = error.errno
print(len(children), refused)
for pid in children:
    os.kill(pid, 9)
'`,
    );
    const [count, errno] = forks.stdout.trim().split(' ').map(Number);
    assert.equal(errno, 11, 'fork fails with EAGAIN');
    assert.ok(count !== undefined && count > 10 && count < 64, `forked ${count} children under a limit of 64`);
    await sbx.commands.run(`bash -c ':(){ :|:& };:' >/dev/null 2>&1`, { background: true }).catch(() => undefined);
    await eventually(() => Number(cgroupFile('pids', sbx.sandboxId, 'pids.current')) >= 60, 30_000, 'the fork bomb to fill the pids limit');
    await assertOthersResponsive();
  });
  await assertOthersResponsive();
});

test('a memory hog stops at memoryMB, and other sandboxes and the server stay responsive', async () => {
  await withLimits({ memoryMB: 128 }, async (sbx) => {
    const hog = await failure(sbx.commands.run('python3 -c "b = bytearray(512 * 1024 * 1024); print(len(b))"'));
    assert.notEqual(hog.exitCode, 0, 'a 512 MiB allocation fails inside a 128 MiB sandbox');
    assert.equal((await sbx.commands.run('echo alive')).stdout, 'alive\n');
    await assertOthersResponsive();
  });
});

test('a disk filler stops at diskSizeMB with EDQUOT, space comes back on delete, and other sandboxes can still write', async () => {
  await withLimits({ diskSizeMB: 128 }, async (sbx) => {
    const fill = await failure(sbx.commands.run('dd if=/dev/zero of=/home/user/fill bs=1M count=400'));
    assert.notEqual(fill.exitCode, 0);
    assert.match(fill.stderr, /Disk quota exceeded|No space left/);
    const preallocate = await failure(sbx.commands.run('fallocate -l 1G /home/user/big'));
    assert.notEqual(preallocate.exitCode, 0);
    await sbx.commands.run('rm -f /home/user/fill /home/user/big');
    await sbx.commands.run('dd if=/dev/zero of=/home/user/again bs=1M count=64 status=none');
    assert.equal((await sbx.commands.run('stat -c %s /home/user/again')).stdout.trim(), String(64 * 1024 * 1024));
    await withSandbox(async (other) => {
      await other.commands.run('dd if=/dev/zero of=/home/user/big bs=1M count=200 status=none');
      assert.equal((await other.commands.run('stat -c %s /home/user/big')).stdout.trim(), String(200 * 1024 * 1024));
    });
    assert.equal((await api('GET', '/health')).status, 200);
  });
});

test('bad limit values are typed 400s in E2B shape', async () => {
  const bad: Array<Record<string, unknown>> = [
    { pidsLimit: -1 },
    { pidsLimit: 0 },
    { pidsLimit: 15 },
    { pidsLimit: 65_537 },
    { pidsLimit: '64' },
    { pidsLimit: 1.5 },
    { pidsLimit: null },
    { diskSizeMB: -5 },
    { diskSizeMB: 63 },
    { diskSizeMB: 2_000_000 },
    { diskSizeMB: 'big' },
    { diskSizeMB: 1_000_000 }, // within the field's bounds, beyond this server's 64 GiB sandbox disk
  ];
  for (const fields of bad) {
    const response = await api('POST', '/sandboxes', { templateID: 'base', ...fields });
    assert.equal(response.status, 400, JSON.stringify(fields));
    assert.equal(response.json['code'], 400);
    assert.equal(response.json['errorCode'], 'invalid_argument');
    assert.match(String(response.json['message']), new RegExp(Object.keys(fields)[0] ?? ''));
  }
  assert.equal((await api('GET', '/health')).status, 200);
});

test('a template sets default pids and disk limits for its sandboxes; its RUN steps build on the quota disk', async () => {
  const name = `limits-${randomBytes(4).toString('hex')}`;
  const contextDir = testTempDir('limits-context-');
  try {
    const started = await api('POST', '/admin/templates/builds', {
      name,
      dockerfile: `FROM base\nRUN echo ${name} > /built.txt\n`,
      contextDir,
      pidsLimit: 200,
      diskSizeMB: 512,
    });
    assert.equal(started.status, 202, JSON.stringify(started.json));
    const buildId = String(started.json['buildID']);
    await eventually(async () => (await api('GET', `/admin/templates/builds/${buildId}`)).json['status'] !== 'building', 120_000, 'the build');
    assert.equal((await api('GET', `/admin/templates/builds/${buildId}`)).json['status'], 'ready');
    const template = (await api('GET', `/templates/${name}`)).json;
    assert.equal(template['pidsLimit'], 200);
    assert.equal(template['diskSizeMB'], 512);
    await withLimits({ templateID: name }, async (sbx) => {
      assert.equal((await sbx.commands.run('cat /built.txt')).stdout, `${name}\n`);
      const detail = await api('GET', `/sandboxes/${sbx.sandboxId}`);
      assert.equal(detail.json['pidsLimit'], 200);
      assert.equal(detail.json['diskSizeMB'], 512);
      assert.equal(cgroupFile('pids', sbx.sandboxId, 'pids.max'), '200');
    });
    assert.equal((await api('DELETE', `/templates/${name}`)).status, 204);
  } finally {
    rmSync(contextDir, { recursive: true, force: true });
  }
});

test('the sandbox disk stays mounted across a restart: a running sandbox keeps its files and its quota', async () => {
  const sandboxesDir = path.join(server.dataDir, 'sandboxes');
  const mountsAt = (): number => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((line) => line.split(' ')[4] === sandboxesDir).length;
  assert.equal(mountsAt(), 1);
  const created = await api('POST', '/sandboxes', { templateID: 'base', timeout: 300, diskSizeMB: 96 });
  assert.equal(created.status, 201);
  const sbx = await Sandbox.connect(String(created.json['sandboxID']));
  try {
    await sbx.files.write('/home/user/kept.txt', 'before restart');
    const { dataDir, url } = server;
    await server.stop();
    server = await startServer({ dataDir, port: Number(new URL(url).port), args: ['--pool', 'base=0'] });
    assert.equal(mountsAt(), 1, 'the existing mount is reused, not stacked');
    assert.equal(await sbx.files.read('/home/user/kept.txt'), 'before restart');
    const fill = await failure(sbx.commands.run('dd if=/dev/zero of=/home/user/fill bs=1M count=300'));
    assert.match(fill.stderr, /Disk quota exceeded|No space left/);
  } finally {
    await sbx.kill().catch(() => undefined);
  }
});
