// A daemon restart neither loses a running sandbox's files nor leaks processes: live ones re-attach, dead ones are reaped.
import assert from 'node:assert/strict';
import path from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { after, test } from 'node:test';
import { Sandbox } from 'e2b';
import { startServer, useServerEnv, type ServerProcess } from '../helpers/server-process.js';
import { eventually } from '../helpers/sandbox-fixture.js';
import { sandboxCgroupDir } from '../helpers/test-run.js';

let server: ServerProcess | undefined;
after(async () => server?.destroy());

function hostPidOf(dataDir: string, sandboxId: string): number {
  const procs = readFileSync(path.join(sandboxCgroupDir('pids', dataDir, sandboxId), 'cgroup.procs'), 'utf8').trim().split('\n').map(Number);
  assert.ok(procs.length > 0, `sandbox ${sandboxId} in ${dataDir} has processes`);
  return Math.min(...procs);
}

test('sandboxes survive a restart with their files and processes; dead ones are reaped', async () => {
  server = await startServer();
  useServerEnv(server);
  const keeper = await Sandbox.create({ timeoutMs: 300_000, metadata: { role: 'keeper' }, allowInternetAccess: false });
  const victim = await Sandbox.create({ timeoutMs: 300_000, metadata: { role: 'victim' } });
  await keeper.files.write('/home/user/state.txt', 'before restart');
  const worker = await keeper.commands.run('while true; do date +%s%N >> /tmp/ticks; sleep 0.1; done', { background: true });
  const victimPid = hostPidOf(server.dataDir, victim.sandboxId);

  const { dataDir, url } = server;
  await server.stop();
  process.kill(victimPid, 'SIGKILL');
  const port = Number(new URL(url).port);
  server = await startServer({ dataDir, port });

  const listed = await Sandbox.list().nextItems();
  assert.deepEqual(listed.map((s) => s.sandboxId), [keeper.sandboxId]);
  assert.equal(await keeper.files.read('/home/user/state.txt'), 'before restart');
  const processes = await keeper.commands.list();
  assert.ok(processes.some((p) => p.pid === worker.pid), 'the background worker still runs');
  const ticksBefore = (await keeper.commands.run('wc -l < /tmp/ticks')).stdout.trim();
  await new Promise((resolve) => setTimeout(resolve, 400));
  const ticksAfter = (await keeper.commands.run('wc -l < /tmp/ticks')).stdout.trim();
  assert.ok(Number(ticksAfter) > Number(ticksBefore), 'the worker keeps making progress');
  // its network comes back with it: the metadata service knows it again, and its policy still holds
  const token = (await keeper.commands.run('curl -s -m 5 -X PUT http://169.254.169.254/latest/api/token')).stdout;
  assert.ok(token.length > 20, 'the metadata service answers the re-attached sandbox');
  assert.equal((await Sandbox.getInfo(keeper.sandboxId)).allowInternetAccess, false);
  const egress = (await keeper.commands.run('curl -s -m 5 -o /dev/null -w "%{http_code}" http://93.184.216.34/').catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }))).stdout;
  assert.equal(egress, '000', 'allowInternetAccess: false still holds after the restart');
  await eventually(() => !existsSync(`${dataDir}/sandboxes/${victim.sandboxId}`), 5_000, 'the dead sandbox to be cleaned up');
  assert.equal(existsSync(sandboxCgroupDir('memory', server.dataDir, victim.sandboxId)), false);
  await assert.rejects(Sandbox.getInfo(victim.sandboxId), /not found/i);
  await keeper.kill();
  await eventually(() => !existsSync(`${dataDir}/sandboxes/${keeper.sandboxId}`), 5_000, 'the killed sandbox directory to be removed');
});
