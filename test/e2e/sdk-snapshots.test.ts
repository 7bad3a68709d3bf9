// Persistent snapshots through the e2b SDK on the gVisor backend: createSnapshot keeps the source running and
// saves its memory and files; Sandbox.create(snapshot id or name) starts independent sandboxes from it, also after
// a daemon restart; listSnapshots filters and pages; deleteSnapshot frees the files; a corrupt snapshot is refused
// before anything starts; bad requests, unknown sandboxes and the namespaces backend get typed errors.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { NotFoundError, Sandbox, SandboxError, type SnapshotInfo } from 'e2b';
import { findRunsc, RUNSC_INSTALL_HINT } from '../../src/backends/gvisor/gvisor-host-check.js';
import { runCli, startServer, useServerEnv, type ServerProcess } from '../helpers/server-process.js';
import { MEMORY_SERVER, readMemory } from '../helpers/memory-server.js';
import { apiRequest, type ApiResponse } from '../helpers/api-request.js';

const skip = findRunsc() ? false : `runsc is not installed: ${RUNSC_INSTALL_HINT}`;
const ARGS = ['--backend', 'gvisor', '--pool', 'base=0'];
const TIMEOUT_MS = 180_000;
let server: ServerProcess;
const started: Sandbox[] = [];

before(async () => {
  if (skip) return;
  server = await startServer({ args: ARGS });
  useServerEnv(server);
});
after(async () => {
  await Promise.all(started.map((sbx) => sbx.kill().catch(() => undefined)));
  await server?.destroy();
});

async function create(template: string): Promise<Sandbox> {
  const sbx = await Sandbox.create(template, { timeoutMs: TIMEOUT_MS });
  started.push(sbx);
  return sbx;
}

const api = (method: string, route: string, body?: unknown): Promise<ApiResponse> => apiRequest(server, method, route, body);

async function listAll(opts: Parameters<typeof Sandbox.listSnapshots>[0] = {}): Promise<{ items: SnapshotInfo[]; pages: number }> {
  const paginator = Sandbox.listSnapshots(opts);
  const items: SnapshotInfo[] = [];
  let pages = 0;
  while (paginator.hasNext) {
    items.push(...(await paginator.nextItems()));
    pages += 1;
  }
  return { items, pages };
}

const savedDir = (snapshotId: string): string => path.join(server.dataDir, 'snapshots', 'saved', snapshotId);

let source: Sandbox;
let sourceSecret: string;
let first: SnapshotInfo;
let second: SnapshotInfo;

test('sandboxes started from a snapshot id or name share its memory and files, and are independent', { skip }, async () => {
  source = await create('base');
  await source.commands.run(MEMORY_SERVER, { background: true });
  sourceSecret = (await readMemory(source)).secret;
  await source.files.write('/home/user/shared.txt', 'before the snapshot');

  first = await source.createSnapshot({ name: 'py-state' });
  assert.match(first.snapshotId, /^snap-[a-z0-9]{16}$/);
  assert.deepEqual(first.names, ['py-state']);
  assert.ok(existsSync(savedDir(first.snapshotId)), 'its files are in the data dir');
  assert.equal((await source.commands.run('echo alive')).stdout, 'alive\n', 'the source keeps running');

  const [a, b] = await Promise.all([create(first.snapshotId), create('py-state:default')]);
  for (const sbx of [a, b]) {
    assert.notEqual(sbx.sandboxId, source.sandboxId);
    assert.equal((await readMemory(sbx)).secret, sourceSecret, 'the Python process and its memory came along');
    assert.equal(await sbx.files.read('/home/user/shared.txt'), 'before the snapshot');
    assert.equal((await sbx.commands.run('hostname')).stdout.trim(), sbx.sandboxId, 'its own hostname');
    assert.equal((await sbx.commands.run('echo $E2B_SANDBOX_ID')).stdout.trim(), sbx.sandboxId, 'its own environment');
  }
  assert.notEqual((await a.commands.run('hostname -I')).stdout.trim(), (await b.commands.run('hostname -I')).stdout.trim(), 'its own address');

  await a.files.write('/home/user/a-only.txt', 'a');
  await source.files.write('/home/user/source-only.txt', 'source');
  assert.equal(await b.files.exists('/home/user/a-only.txt'), false, 'a write in one is invisible to the other');
  assert.equal(await source.files.exists('/home/user/a-only.txt'), false, 'and to the source');
  assert.equal(await a.files.exists('/home/user/source-only.txt'), false, 'the source’s later writes are invisible to both');
  const sourceCount = (await readMemory(source)).count;
  for (let i = 0; i < 4; i++) await readMemory(a);
  assert.equal((await readMemory(source)).count, sourceCount + 1, 'memory is private too');
  assert.ok((await readMemory(b)).count < (await readMemory(a)).count);
});

test('a name moves to the newest snapshot; listSnapshots filters by sandbox and name and pages', { skip }, async () => {
  await source.files.write('/home/user/shared.txt', 'second snapshot');
  second = await Sandbox.createSnapshot(source.sandboxId, { name: 'py-state' });
  assert.notEqual(second.snapshotId, first.snapshotId);
  const other = await create(first.snapshotId);
  await Sandbox.createSnapshot(other.sandboxId);

  const everything = await listAll();
  assert.equal(everything.items.length, 3);
  const fromSource = await listAll({ sandboxId: source.sandboxId, limit: 1 });
  assert.deepEqual(fromSource.items.map((item) => item.snapshotId), [first.snapshotId, second.snapshotId], 'oldest first');
  assert.equal(fromSource.pages >= 2, true, 'one per page');
  assert.deepEqual(fromSource.items.map((item) => item.names), [[], ['py-state']], 'the name moved to the newer one');
  assert.deepEqual((await listAll({ name: 'py-state' })).items.map((item) => item.snapshotId), [second.snapshotId]);
  assert.deepEqual((await listAll({ name: `${first.snapshotId}:default` })).items.map((item) => item.snapshotId), [first.snapshotId]);
  assert.deepEqual((await listAll({ name: 'py-state:v9' })).items, [], 'Hearth snapshots have no other tags');
  const own = other.listSnapshots();
  assert.equal((await own.nextItems()).length, 1, 'sbx.listSnapshots() lists the sandbox’s own');
  assert.equal(own.hasNext, false);

  const fromName = await create('py-state');
  assert.equal(await fromName.files.read('/home/user/shared.txt'), 'second snapshot', 'the name starts the newest');
  const fromOld = await create(first.snapshotId);
  assert.equal(await fromOld.files.read('/home/user/shared.txt'), 'before the snapshot', 'the older one stays by its id');

  const alias = await api('POST', '/admin/templates/base/aliases', { alias: 'py-state' });
  assert.equal(alias.status, 409, 'a template cannot take a snapshot’s name');

  const cli = await runCli(server, ['snapshot', 'ls', '--sandbox', source.sandboxId]);
  assert.equal(cli.code, 0, cli.stderr);
  assert.match(cli.stdout, new RegExp(`${second.snapshotId}\\s+py-state`));
});

test('a paused sandbox can be snapshotted and stays paused', { skip }, async () => {
  const paused = await create(second.snapshotId);
  await paused.files.write('/home/user/paused.txt', 'written before the pause');
  await paused.pause();
  const snapshot = await Sandbox.createSnapshot(paused.sandboxId);
  assert.equal((await Sandbox.getInfo(paused.sandboxId)).state, 'paused');
  const restored = await create(snapshot.snapshotId);
  assert.equal(await restored.files.read('/home/user/paused.txt'), 'written before the pause');
  assert.equal((await readMemory(restored)).secret, sourceSecret);
});

test('snapshots survive a daemon restart; files of unknown snapshots are removed at start-up', { skip }, async () => {
  const orphan = savedDir('snap-left-by-a-crash');
  mkdirSync(orphan, { recursive: true });
  await server.stop();
  // the same port, so the SDK's handles of sandboxes started before the restart keep working
  server = await startServer({ dataDir: server.dataDir, args: ARGS, port: Number(new URL(server.url).port) });
  useServerEnv(server);
  assert.equal(existsSync(orphan), false, 'an unknown snapshot directory is removed');
  assert.equal((await listAll()).items.length, 4);
  const after = await create('py-state');
  assert.equal((await readMemory(after)).secret, sourceSecret);
  assert.equal(await after.files.read('/home/user/shared.txt'), 'second snapshot');
});

test('a corrupt snapshot is refused with snapshot_invalid and starts nothing', { skip }, async () => {
  const imageDir = path.join(savedDir(first.snapshotId), 'image');
  const victim = (await fs.readdir(imageDir)).find((name) => name !== 'hearth-checkpoint.manifest' && !name.startsWith('.'));
  assert.ok(victim);
  await fs.appendFile(path.join(imageDir, victim), 'x');
  const before = (await Sandbox.list().nextItems()).length;
  const refused = await api('POST', '/sandboxes', { templateID: first.snapshotId, timeout: 60 });
  assert.equal(refused.status, 422);
  assert.equal(refused.json['errorCode'], 'snapshot_invalid');
  assert.equal((await Sandbox.list().nextItems()).length, before, 'no sandbox was left running');
});

test('deleteSnapshot frees the files and answers false the second time; creates from it then 404', { skip }, async () => {
  assert.equal(await Sandbox.deleteSnapshot(first.snapshotId), true);
  assert.equal(await Sandbox.deleteSnapshot(first.snapshotId), false);
  assert.equal(existsSync(savedDir(first.snapshotId)), false, 'its files are gone');
  assert.equal(await Sandbox.deleteSnapshot('py-state'), true, 'a name deletes the snapshot holding it');
  assert.equal(await Sandbox.deleteSnapshot('py-state'), false);
  assert.equal(existsSync(savedDir(second.snapshotId)), false);
  assert.equal((await source.commands.run('echo alive')).stdout, 'alive\n', 'sandboxes started from it run on');
  await assert.rejects(Sandbox.create(second.snapshotId), (error: unknown) => error instanceof SandboxError && /404/.test(error.message));
  await assert.rejects(Sandbox.create('py-state'), (error: unknown) => error instanceof SandboxError && /404/.test(error.message));
  const rest = await listAll();
  for (const item of rest.items) assert.equal(await Sandbox.deleteSnapshot(item.snapshotId), true);
  assert.equal((await listAll()).items.length, 0);
  const cli = await runCli(server, ['snapshot', 'rm', 'py-state']);
  assert.notEqual(cli.code, 0, 'the CLI says when there is no such snapshot');
  assert.match(cli.stderr, /404/);
});

test('bad requests: unknown sandbox, bad names, a name a template holds, the namespaces backend', { skip }, async () => {
  await assert.rejects(Sandbox.createSnapshot('nosuchsandbox000000a'), (error: unknown) => error instanceof NotFoundError);
  const target = `/sandboxes/${source.sandboxId}/snapshots`;
  for (const name of [5, 'Upper', 'has space', 'a/b', 'x'.repeat(64), '']) {
    const response = await api('POST', target, { name });
    assert.equal(response.status, 400, `name ${JSON.stringify(name)}`);
    assert.equal(response.json['errorCode'], 'invalid_argument');
  }
  const taken = await api('POST', target, { name: 'base' });
  assert.equal(taken.status, 409, 'snapshots and templates share names');

  const created = await api('POST', '/sandboxes', { templateID: 'base', backend: 'namespaces', timeout: 60 });
  const sandboxId = String(created.json['sandboxID']);
  try {
    await assert.rejects(Sandbox.createSnapshot(sandboxId), (error: unknown) => error instanceof SandboxError && /501/.test(error.message) && /namespaces backend/.test(error.message));
    const refused = await api('POST', `/sandboxes/${sandboxId}/snapshots`, {});
    assert.equal(refused.status, 501);
    assert.equal(refused.json['errorCode'], 'unsupported');
    const sbx = await Sandbox.connect(sandboxId);
    assert.equal((await sbx.commands.run('echo still-running')).stdout, 'still-running\n');
  } finally {
    await Sandbox.kill(sandboxId);
  }
});
