// Warm pools: claims, refill, miss fallback, freezing, restart, and claims that look exactly like cold starts.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { Sandbox } from 'e2b';
import { runCli, startServer, useServerEnv, type ServerProcess } from '../helpers/server-process.js';
import { eventually } from '../helpers/sandbox-fixture.js';
import type { PoolStats } from '../../src/core/pool-manager.js';
import { sandboxCgroupDir } from '../helpers/test-run.js';

type PoolRow = PoolStats;

let server: ServerProcess;
before(async () => {
  server = await startServer({ args: ['--pool', 'base=3'] });
  useServerEnv(server);
});
after(async () => server.destroy());

async function basePool(): Promise<PoolRow> {
  const response = await fetch(`${server.url}/admin/pools`, { headers: { 'x-api-key': server.apiKey } });
  const rows = (await response.json()) as PoolRow[];
  const row = rows.find((pool) => pool.templateId === 'base');
  assert.ok(row, 'base pool is listed');
  return row;
}

function frozenSandboxIds(): string[] {
  const root = sandboxCgroupDir('freezer', server.dataDir);
  if (!existsSync(root)) return [];
  return readdirSync(root).filter((name) => existsSync(`${root}/${name}/freezer.state`) && readFileSync(`${root}/${name}/freezer.state`, 'utf8').trim() === 'FROZEN');
}

async function metricValue(name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`, { headers: { 'x-api-key': server.apiKey } })).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return Number(line?.split(' ').pop() ?? NaN);
}

test('the pool fills to its target with frozen sandboxes', async () => {
  await eventually(async () => (await basePool()).ready === 3, 30_000, 'pool to fill');
  assert.ok(frozenSandboxIds().length >= 3, 'pooled sandboxes are frozen');
});

test('create claims from the pool, which refills; claims look like cold starts', async () => {
  const hitsBefore = await metricValue('hearth_sandbox_creates_total', 'path="pool_hit"');
  const first = await Sandbox.create({ envs: { ONLY_FIRST: 'yes' }, metadata: { n: '1' } });
  await first.commands.run('echo leftover > /tmp/leftover; sleep 300 &', { background: false }).catch(() => undefined);
  await first.kill();
  const second = await Sandbox.create({ metadata: { n: '2' } });
  try {
    assert.notEqual(second.sandboxId, first.sandboxId);
    assert.notEqual((second as unknown as { envdAccessToken: string }).envdAccessToken, (first as unknown as { envdAccessToken: string }).envdAccessToken);
    assert.equal((await second.commands.run('hostname')).stdout.trim(), second.sandboxId);
    assert.equal((await second.commands.run('ls -A /tmp')).stdout, '');
    assert.equal((await second.commands.run('env')).stdout.includes('ONLY_FIRST'), false);
    const processes = (await second.commands.run('ps -eo comm=')).stdout.trim().split('\n');
    const strangers = processes.filter((name) => !['hearth-supervis', 'bash', 'ps'].includes(name.trim()));
    assert.deepEqual(strangers, [], 'nothing but the supervisor and this command runs');
    assert.equal((await second.getInfo()).metadata['n'], '2');
    assert.equal(frozenSandboxIds().includes(second.sandboxId), false, 'a claimed sandbox is thawed');
  } finally {
    await second.kill();
  }
  assert.equal(await metricValue('hearth_sandbox_creates_total', 'path="pool_hit"'), hitsBefore + 2);
  await eventually(async () => (await basePool()).ready === 3, 30_000, 'pool to refill');
  assert.ok((await basePool()).claims >= 2);
});

test('an empty pool falls back to a cold start, never an error', async () => {
  const set = await runCli(server, ['pool', 'set', 'base', '0']);
  assert.equal(set.code, 0, set.stderr);
  await eventually(async () => (await basePool()).ready === 0, 10_000, 'pool to drain');
  const coldBefore = await metricValue('hearth_sandbox_creates_total', 'path="cold"');
  const missesBefore = (await basePool()).misses;
  const sbx = await Sandbox.create();
  try {
    assert.equal((await sbx.commands.run('echo cold')).stdout, 'cold\n');
  } finally {
    await sbx.kill();
  }
  assert.equal(await metricValue('hearth_sandbox_creates_total', 'path="cold"'), coldBefore + 1);
  assert.equal((await basePool()).misses, missesBefore + 1);
  const listed = await runCli(server, ['pool', 'ls']);
  assert.match(listed.stdout, /template\s+target\s+ready\s+starting\s+claims\s+misses/);
  assert.match(listed.stdout, /^base\s+0\s+0/m);
  const bad = await runCli(server, ['pool', 'set', 'no-such-template', '2']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /not found/);
});

test('pools survive a daemon restart without leaking sandboxes', async () => {
  const set = await runCli(server, ['pool', 'set', 'base', '2']);
  assert.equal(set.code, 0, set.stderr);
  await eventually(async () => (await basePool()).ready === 2, 30_000, 'pool to fill');
  const frozenBefore = frozenSandboxIds().sort();
  const { dataDir, url } = server;
  await server.stop();
  server = await startServer({ dataDir, port: Number(new URL(url).port) });
  await eventually(async () => (await basePool()).ready === 2, 30_000, 'pool after restart');
  assert.deepEqual(frozenSandboxIds().sort(), frozenBefore, 'the same pooled sandboxes were re-adopted');
  const sbx = await Sandbox.create();
  try {
    assert.equal((await sbx.commands.run('echo after-restart')).stdout, 'after-restart\n');
  } finally {
    await sbx.kill();
  }
});

test('/metrics speaks Prometheus and needs the API key', async () => {
  assert.equal((await fetch(`${server.url}/metrics`)).status, 401);
  const text = await (await fetch(`${server.url}/metrics`, { headers: { 'x-api-key': server.apiKey } })).text();
  for (const family of ['hearth_sandbox_creates_total', 'hearth_sandbox_create_duration_seconds_bucket', 'hearth_pool_ready', 'hearth_pool_target', 'hearth_live_sandboxes']) {
    assert.match(text, new RegExp(`^${family}`, 'm'), family);
  }
});
