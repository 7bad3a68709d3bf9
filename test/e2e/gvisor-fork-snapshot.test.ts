// Fork and snapshot-started templates on the gVisor backend through the e2b SDK: forks start from the source's
// memory and files and are independent of it and of each other; a template labelled hearth.snapshot=true is
// checkpointed after its start command and ready check, and later sandboxes restore that state.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Sandbox } from 'e2b';
import { findRunsc, RUNSC_INSTALL_HINT } from '../../src/backends/gvisor/gvisor-host-check.js';
import { runCli, startServer, useServerEnv, type ServerProcess } from '../helpers/server-process.js';
import { MEMORY_SERVER, readMemory } from '../helpers/memory-server.js';
import { testTempDir } from '../helpers/test-run.js';

const skip = findRunsc() ? false : `runsc is not installed: ${RUNSC_INSTALL_HINT}`;
let server: ServerProcess;
const contextDir = testTempDir('snapshot-context-');

before(async () => {
  if (skip) return;
  server = await startServer({ args: ['--backend', 'gvisor', '--pool', 'base=0'] });
  useServerEnv(server);
});
after(async () => {
  await server?.destroy();
  rmSync(contextDir, { recursive: true, force: true });
});

async function exists(sbx: Sandbox, file: string): Promise<boolean> {
  return sbx.files.exists(file);
}

test('forks start from the source’s memory and files, and writes stay private to each', { skip }, async () => {
  const source = await Sandbox.create({ timeoutMs: 180_000 });
  const forks: Sandbox[] = [];
  try {
    await source.commands.run(MEMORY_SERVER, { background: true });
    const before = await readMemory(source);
    await source.files.write('/home/user/shared.txt', 'from before the fork');
    const results = await Sandbox.fork(source.sandboxId, { count: 2, timeoutMs: 120_000 });
    for (const result of results) {
      if (result instanceof Error) throw result;
      forks.push(result);
    }
    assert.equal(forks.length, 2);
    const [a, b] = forks as [Sandbox, Sandbox];
    assert.notEqual(a.sandboxId, b.sandboxId);
    for (const fork of forks) {
      assert.equal((await readMemory(fork)).secret, before.secret, 'the Python variable came along');
      assert.equal(await fork.files.read('/home/user/shared.txt'), 'from before the fork');
      assert.equal((await fork.commands.run('hostname')).stdout.trim(), fork.sandboxId, 'each fork has its own hostname');
      assert.equal((await fork.commands.run('echo $E2B_SANDBOX_ID')).stdout.trim(), fork.sandboxId, 'and its own environment');
    }
    assert.notEqual((await a.commands.run('hostname -I')).stdout.trim(), (await b.commands.run('hostname -I')).stdout.trim(), 'and its own address');
    assert.equal((await source.commands.run('echo alive')).stdout, 'alive\n', 'the source keeps running');
    assert.equal((await readMemory(source)).secret, before.secret);

    await a.files.write('/home/user/a-only.txt', 'a');
    await source.files.write('/home/user/source-only.txt', 'source');
    await b.commands.run('echo b >> /home/user/shared.txt');
    assert.equal(await exists(source, '/home/user/a-only.txt'), false, 'a fork’s write is invisible to the source');
    assert.equal(await exists(b, '/home/user/a-only.txt'), false, 'and to its sibling');
    assert.equal(await exists(a, '/home/user/source-only.txt'), false, 'the source’s later write is invisible to forks');
    assert.equal(await exists(b, '/home/user/source-only.txt'), false);
    assert.equal(await a.files.read('/home/user/shared.txt'), 'from before the fork');
    assert.equal(await source.files.read('/home/user/shared.txt'), 'from before the fork');
    // memory is private too: requests to one fork's server do not move the others' counters
    const sourceCount = (await readMemory(source)).count;
    for (let i = 0; i < 5; i++) await readMemory(a);
    assert.equal((await readMemory(source)).count, sourceCount + 1);
    assert.ok((await readMemory(b)).count < (await readMemory(a)).count);
  } finally {
    await Promise.all([source, ...forks].map((sbx) => sbx.kill().catch(() => undefined)));
  }
});

test('a pause sent while a fork checkpoints the sandbox waits for it: both succeed, and the sandbox resumes whole', { skip }, async () => {
  const source = await Sandbox.create({ timeoutMs: 120_000 });
  const forks: Sandbox[] = [];
  try {
    await source.commands.run(MEMORY_SERVER, { background: true });
    const before = await readMemory(source);
    const forking = source.fork({ count: 1 });
    await new Promise((resolve) => setTimeout(resolve, 20)); // the fork's checkpoint has begun
    const [forked, paused] = await Promise.allSettled([forking, Sandbox.pause(source.sandboxId)]);
    assert.equal(forked.status, 'fulfilled', forked.status === 'rejected' ? String(forked.reason) : '');
    assert.equal(paused.status, 'fulfilled', paused.status === 'rejected' ? String(paused.reason) : '');
    for (const result of forked.status === 'fulfilled' ? forked.value : []) {
      if (result instanceof Error) throw result;
      forks.push(result);
    }
    assert.equal((await Sandbox.getInfo(source.sandboxId)).state, 'paused');
    const resumed = await Sandbox.connect(source.sandboxId);
    assert.equal((await readMemory(resumed)).secret, before.secret);
    assert.equal((await readMemory(forks[0] as Sandbox)).secret, before.secret);
  } finally {
    for (const sandbox of [source, ...forks]) await Sandbox.kill(sandbox.sandboxId).catch(() => undefined);
  }
});

test('a fork of a sandbox on the namespaces backend is refused as unsupported', { skip }, async () => {
  const response = await fetch(`${server.url}/sandboxes`, {
    method: 'POST',
    headers: { 'x-api-key': server.apiKey, 'content-type': 'application/json' },
    body: JSON.stringify({ templateID: 'base', backend: 'namespaces' }),
  });
  const { sandboxID } = (await response.json()) as { sandboxID: string };
  try {
    const fork = await fetch(`${server.url}/sandboxes/${sandboxID}/fork`, { method: 'POST', headers: { 'x-api-key': server.apiKey, 'content-type': 'application/json' }, body: '{"count":1}' });
    assert.equal(fork.status, 501);
    const pause = await fetch(`${server.url}/sandboxes/${sandboxID}/pause`, { method: 'POST', headers: { 'x-api-key': server.apiKey, 'content-type': 'application/json' }, body: '{}' });
    assert.equal(pause.status, 501);
    const sbx = await Sandbox.connect(sandboxID);
    assert.equal((await sbx.commands.run('echo still-running')).stdout, 'still-running\n', 'a refused pause leaves the sandbox running');
  } finally {
    await Sandbox.kill(sandboxID);
  }
});

/** Imports a few modules, takes a while to initialise, then serves the values it computed; ready once /tmp/ready exists. */
const INIT_SCRIPT = `import http.server, json, decimal, sqlite3, email.parser, xml.dom.minidom, os, time
started = "%d-%s" % (os.getpid(), os.urandom(6).hex())
time.sleep(1.5)
open("/tmp/ready", "w").write(started)
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(started.encode())
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", 8001), H).serve_forever()
`;

test('a snapshot-started template restores its initialised state in every new sandbox', { skip }, async () => {
  writeFileSync(path.join(contextDir, 'init.py'), INIT_SCRIPT);
  writeFileSync(path.join(contextDir, 'Dockerfile'), 'FROM base\nLABEL hearth.backend=gvisor hearth.snapshot=true\nCOPY init.py /opt/init.py\n');
  const build = await runCli(server, ['template', 'build', '-f', path.join(contextDir, 'Dockerfile'), '-t', 'warm-python', contextDir, '--start-cmd', 'python3 /opt/init.py', '--ready-cmd', 'test -f /tmp/ready']);
  assert.equal(build.code, 0, build.stderr);
  const first = await Sandbox.create('warm-python', { timeoutMs: 120_000 });
  const later: Sandbox[] = [];
  try {
    const initialised = (await first.commands.run('cat /tmp/ready')).stdout;
    assert.match(initialised, /^\d+-[0-9a-f]{12}$/);
    for (let i = 0; i < 2; i++) later.push(await Sandbox.create('warm-python', { timeoutMs: 120_000 }));
    for (const sbx of later) {
      assert.equal((await sbx.commands.run('cat /tmp/ready')).stdout, initialised, 'the ready file of the snapshot, not a new start');
      assert.equal((await sbx.commands.run('curl -s http://127.0.0.1:8001/')).stdout, initialised, 'the initialised process runs, restored');
      assert.equal((await sbx.commands.run('hostname')).stdout.trim(), sbx.sandboxId);
      await sbx.files.write('/home/user/mine.txt', sbx.sandboxId);
    }
    assert.equal(await later[1]?.files.exists('/home/user/mine.txt').then(async () => later[1]?.files.read('/home/user/mine.txt')), later[1]?.sandboxId, 'restored sandboxes do not share files');
  } finally {
    await Promise.all([first, ...later].map((sbx) => sbx.kill().catch(() => undefined)));
  }
});
