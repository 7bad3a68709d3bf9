// Pause on the namespaces backend: where the host's CRIU cannot checkpoint sandboxes (bookworm's 3.17.1 on
// Linux 6.13+, 4.1 on 6.16+) the pause is refused with 501 unsupported naming CRIU's exact limitation, and the
// sandbox runs on untouched: the same process with the same memory, its files, and commands still work.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Sandbox } from 'e2b';
import { criuUnsupportedReason, probeCriu } from '../../src/backends/namespaces/criu-support.js';
import { apiRequest } from '../helpers/api-request.js';
import { startServer, useServerEnv, type ServerProcess } from '../helpers/server-process.js';

let server: ServerProcess;

before(async () => {
  server = await startServer({ args: ['--pool', 'base=0'] });
  useServerEnv(server);
});
after(async () => server?.destroy());

test('a refused pause names why and leaves the sandbox running with its process, memory and files', async () => {
  const sbx = await Sandbox.create({ timeoutMs: 120_000 });
  try {
    await sbx.commands.run(`python3 -c 'import os, time; secret = os.urandom(8).hex(); open("/tmp/secret", "w").write(secret); time.sleep(3600)'`, { background: true });
    await sbx.files.write('/home/user/kept.txt', 'written before pause');
    const before = (await sbx.commands.run('sleep 0.3; cat /tmp/secret; echo " $(pgrep -o python3)"')).stdout.trim();
    const reason = criuUnsupportedReason(await probeCriu('criu'));
    const refused = await apiRequest(server, 'POST', `/sandboxes/${sbx.sandboxId}/pause`, {});
    assert.equal(refused.status, 501);
    assert.equal(refused.json['errorCode'], 'unsupported');
    const message = String(refused.json['message']);
    assert.match(message, /pause is not supported: the namespaces backend/);
    if (reason) assert.ok(message.includes(reason), `the host's CRIU limitation is named: ${message}`);
    assert.equal((await Sandbox.getInfo(sbx.sandboxId)).state, 'running');
    assert.equal((await sbx.commands.run('cat /tmp/secret; echo " $(pgrep -o python3)"')).stdout.trim(), before, 'same process, same memory');
    assert.equal(await sbx.files.read('/home/user/kept.txt'), 'written before pause');
  } finally {
    await Sandbox.kill(sbx.sandboxId).catch(() => undefined);
  }
});
