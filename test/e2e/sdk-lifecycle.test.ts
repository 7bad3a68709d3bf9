// Control plane through the e2b SDK: create, info, list with metadata filter and paging, timeouts, connect, kill.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Sandbox, SandboxError } from 'e2b';
import { startServer, useServerEnv, type ServerProcess } from '../helpers/server-process.js';
import { eventually } from '../helpers/sandbox-fixture.js';

let server: ServerProcess;
before(async () => {
  server = await startServer();
  useServerEnv(server);
});
after(async () => server.destroy());

test('getInfo reports template, metadata, state and the end time from the timeout', async () => {
  const before = Date.now();
  const sbx = await Sandbox.create({ timeoutMs: 90_000, metadata: { owner: 'alice' } });
  try {
    const info = await sbx.getInfo();
    assert.equal(info.sandboxId, sbx.sandboxId);
    assert.equal(info.templateId, 'base');
    assert.deepEqual(info.metadata, { owner: 'alice' });
    assert.equal(info.state, 'running');
    const ttlMs = info.endAt.getTime() - before;
    assert.ok(ttlMs > 85_000 && ttlMs < 95_000, `end time ${ttlMs} ms from now`);
    assert.ok(await sbx.isRunning());
  } finally {
    await sbx.kill();
  }
});

test('default timeout is five minutes', async () => {
  const response = await fetch(`${server.url}/sandboxes`, {
    method: 'POST',
    headers: { 'x-api-key': server.apiKey, 'content-type': 'application/json' },
    body: JSON.stringify({ templateID: 'base' }),
  });
  assert.equal(response.status, 201);
  const created = (await response.json()) as { sandboxID: string };
  try {
    const info = await Sandbox.getInfo(created.sandboxID);
    const ttlMs = info.endAt.getTime() - info.startedAt.getTime();
    assert.ok(Math.abs(ttlMs - 300_000) < 2_000, `ttl ${ttlMs}`);
  } finally {
    await Sandbox.kill(created.sandboxID);
  }
});

test('list filters by metadata and pages with nextToken', async () => {
  const sandboxes = await Promise.all([
    Sandbox.create({ metadata: { team: 'red', n: '1' } }),
    Sandbox.create({ metadata: { team: 'red', n: '2' } }),
    Sandbox.create({ metadata: { team: 'blue', n: '3' } }),
  ]);
  try {
    const red = await Sandbox.list({ query: { metadata: { team: 'red' } } }).nextItems();
    assert.deepEqual(red.map((s) => s.metadata['n']).sort(), ['1', '2']);
    const paginator = Sandbox.list({ limit: 2 });
    const first = await paginator.nextItems();
    assert.equal(first.length, 2);
    assert.ok(paginator.hasNext);
    const second = await paginator.nextItems();
    assert.equal(second.length, 1);
    assert.equal(paginator.hasNext, false);
    const ids = new Set([...first, ...second].map((s) => s.sandboxId));
    assert.equal(ids.size, 3);
    const v1 = (await (await fetch(`${server.url}/sandboxes?metadata=${encodeURIComponent('team=blue')}`, { headers: { 'x-api-key': server.apiKey } })).json()) as Array<{ sandboxID: string }>;
    assert.deepEqual(v1.map((s) => s.sandboxID), [sandboxes[2]?.sandboxId]);
  } finally {
    await Promise.all(sandboxes.map((s) => s.kill()));
  }
});

test('an expired sandbox is killed and everything it held is freed', async () => {
  const sbx = await Sandbox.create({ timeoutMs: 2_000 });
  await sbx.commands.run('sleep 600', { background: true });
  await eventually(async () => !(await sbx.isRunning()), 10_000, 'sandbox expiry');
  await assert.rejects(Sandbox.getInfo(sbx.sandboxId), /not found/i);
  assert.equal((await Sandbox.list().nextItems()).some((s) => s.sandboxId === sbx.sandboxId), false);
  await assert.rejects(sbx.commands.run('true'));
});

test('setTimeout extends the life of a sandbox; connect returns a working handle', async () => {
  const sbx = await Sandbox.create({ timeoutMs: 3_000 });
  try {
    await sbx.setTimeout(60_000);
    await new Promise((resolve) => setTimeout(resolve, 3_500));
    assert.ok(await sbx.isRunning());
    const again = await Sandbox.connect(sbx.sandboxId, { timeoutMs: 120_000 });
    const result = await again.commands.run('hostname');
    assert.equal(result.stdout.trim(), sbx.sandboxId);
    const info = await sbx.getInfo();
    assert.ok(info.endAt.getTime() - Date.now() > 100_000);
  } finally {
    await sbx.kill();
  }
});

test('timeouts above 24 hours are refused', async () => {
  await assert.rejects(Sandbox.create({ timeoutMs: 25 * 60 * 60 * 1000 }), (error: unknown) => error instanceof SandboxError && /24 hours/.test(error.message));
});

test('kill is idempotent from the SDK point of view', async () => {
  const sbx = await Sandbox.create();
  assert.equal(await Sandbox.kill(sbx.sandboxId), true);
  assert.equal(await Sandbox.kill(sbx.sandboxId), false);
});
