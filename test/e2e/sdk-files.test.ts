// The filesystem service and /files through the e2b SDK: read, write, list, rename, remove, watch, binary data.
import assert from 'node:assert/strict';
import { randomBytes, createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import { FileType, NotFoundError, Sandbox, type FilesystemEvent } from 'e2b';
import { startServer, useServerEnv, type ServerProcess } from '../helpers/server-process.js';
import { eventually } from '../helpers/sandbox-fixture.js';

let server: ServerProcess;
let sbx: Sandbox;
before(async () => {
  server = await startServer();
  useServerEnv(server);
  sbx = await Sandbox.create({ timeoutMs: 300_000 });
});
after(async () => {
  await sbx?.kill().catch(() => undefined);
  await server.destroy();
});

test('write then read text, with parents created and ownership of the acting user', async () => {
  const info = await sbx.files.write('/home/user/deep/er/notes.txt', 'first line\nsecond line\n');
  assert.equal(info.path, '/home/user/deep/er/notes.txt');
  assert.equal(await sbx.files.read('/home/user/deep/er/notes.txt'), 'first line\nsecond line\n');
  const stat = await sbx.files.getInfo('/home/user/deep/er/notes.txt');
  assert.equal(stat.type, FileType.FILE);
  assert.equal(stat.owner, 'user');
  assert.equal(stat.size, 23);
  assert.equal((await sbx.commands.run('stat -c %U /home/user/deep')).stdout.trim(), 'user');
  const rootFile = await sbx.files.write('/root/secret.txt', 'root only', { user: 'root' });
  assert.equal(rootFile.path, '/root/secret.txt');
  await assert.rejects(sbx.files.read('/root/secret.txt'));
  assert.equal(await sbx.files.read('/root/secret.txt', { user: 'root' }), 'root only');
});

test('relative paths resolve against the home directory', async () => {
  await sbx.files.write('relative.txt', 'rel');
  assert.equal((await sbx.commands.run('cat /home/user/relative.txt')).stdout, 'rel');
});

test('a 5 MiB binary file round-trips byte for byte', async () => {
  const payload = randomBytes(5 * 1024 * 1024);
  await sbx.files.write('/home/user/blob.bin', payload.buffer.slice(payload.byteOffset, payload.byteOffset + payload.length) as ArrayBuffer);
  const back = Buffer.from(await sbx.files.read('/home/user/blob.bin', { format: 'bytes' }));
  assert.equal(back.length, payload.length);
  assert.ok(back.equals(payload), 'downloaded bytes equal uploaded bytes');
  const inside = (await sbx.commands.run('sha256sum /home/user/blob.bin')).stdout.split(' ')[0];
  assert.equal(inside, createHash('sha256').update(payload).digest('hex'));
});

test('several files in one multipart upload', async () => {
  const written = await sbx.files.write([
    { path: '/home/user/multi/a.txt', data: 'A' },
    { path: '/home/user/multi/b.txt', data: 'B' },
  ]);
  assert.equal(written.length, 2);
  assert.equal((await sbx.commands.run('cat /home/user/multi/a.txt /home/user/multi/b.txt')).stdout, 'AB');
});

test('empty files read back as empty', async () => {
  await sbx.files.write('/home/user/empty.txt', '');
  assert.equal(await sbx.files.read('/home/user/empty.txt'), '');
});

test('list with depth, makeDir, rename, remove and exists', async () => {
  assert.equal(await sbx.files.makeDir('/home/user/tree/a/b'), true);
  assert.equal(await sbx.files.makeDir('/home/user/tree/a/b'), false);
  await sbx.files.write('/home/user/tree/a/b/leaf.txt', 'leaf');
  await sbx.files.write('/home/user/tree/top.txt', 'top');
  const shallow = await sbx.files.list('/home/user/tree');
  assert.deepEqual(shallow.map((e) => e.name).sort(), ['a', 'top.txt']);
  assert.equal(shallow.find((e) => e.name === 'a')?.type, FileType.DIR);
  const deep = await sbx.files.list('/home/user/tree', { depth: 3 });
  assert.deepEqual(deep.map((e) => e.path).sort(), ['/home/user/tree/a', '/home/user/tree/a/b', '/home/user/tree/a/b/leaf.txt', '/home/user/tree/top.txt']);
  const moved = await sbx.files.rename('/home/user/tree/top.txt', '/home/user/tree/a/moved.txt');
  assert.equal(moved.path, '/home/user/tree/a/moved.txt');
  assert.equal(await sbx.files.exists('/home/user/tree/top.txt'), false);
  assert.equal(await sbx.files.read('/home/user/tree/a/moved.txt'), 'top');
  await sbx.files.remove('/home/user/tree');
  assert.equal(await sbx.files.exists('/home/user/tree'), false);
  await assert.rejects(sbx.files.read('/home/user/tree/a/moved.txt'), NotFoundError);
  await assert.rejects(sbx.files.list('/home/user/no-such-dir'), NotFoundError);
});

test('symlinks are reported as symlinks with their target', async () => {
  await sbx.commands.run('ln -sf /etc/hostname /home/user/link-to-hostname');
  const entries = await sbx.files.list('/home/user');
  const link = entries.find((e) => e.name === 'link-to-hostname');
  assert.equal(link?.type, FileType.SYMLINK);
  assert.equal(link?.symlinkTarget, '/etc/hostname');
});

test('watchDir reports creates, writes and removes; recursive watches see subdirectories', async () => {
  await sbx.files.makeDir('/home/user/watched/sub');
  const events: FilesystemEvent[] = [];
  const handle = await sbx.files.watchDir('/home/user/watched', (event) => void events.push(event), { recursive: true });
  try {
    await sbx.files.write('/home/user/watched/new.txt', 'x');
    await sbx.commands.run('echo more >> /home/user/watched/new.txt; touch /home/user/watched/sub/inner.txt; rm /home/user/watched/new.txt');
    await eventually(() => events.some((e) => e.name === 'new.txt' && e.type === 'remove') && events.some((e) => e.name === 'sub/inner.txt'), 5_000, 'watch events');
    assert.ok(events.some((e) => e.name === 'new.txt' && e.type === 'create'));
    assert.ok(events.some((e) => e.name === 'new.txt' && e.type === 'write'));
  } finally {
    await handle.stop();
  }
  await assert.rejects(sbx.files.watchDir('/home/user/not-there', () => undefined), NotFoundError);
});
