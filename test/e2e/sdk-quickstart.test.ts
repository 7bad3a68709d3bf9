// The README's quick start, run through the published e2b SDK exactly as a user would.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Sandbox } from 'e2b';
import { startServer, useServerEnv, type ServerProcess } from '../helpers/server-process.js';

let server: ServerProcess;
before(async () => {
  server = await startServer();
  useServerEnv(server);
});
after(async () => server.destroy());

test('create, run, write, read, list and kill through the e2b SDK', async () => {
  const sbx = await Sandbox.create({ timeoutMs: 60_000, metadata: { job: 'demo' } });
  let streamed = '';
  const r = await sbx.commands.run('python3 -c "print(6*7)"', { onStdout: (d) => void (streamed += d) });
  await sbx.files.write('/home/user/a.txt', 'hello');
  const content = await sbx.files.read('/home/user/a.txt');
  const listed = await Sandbox.list().nextItems();
  assert.equal(r.exitCode, 0);
  assert.equal(r.stdout, '42\n');
  assert.equal(streamed, '42\n');
  assert.equal(content, 'hello');
  assert.equal(listed.length, 1);
  assert.equal(listed[0]?.sandboxId, sbx.sandboxId);
  assert.deepEqual(listed[0]?.metadata, { job: 'demo' });
  await sbx.kill();
  assert.equal((await Sandbox.list().nextItems()).length, 0);
});
