// The sandbox network inside microVM guests: the guest's virtio-net is tc-redirected to the prepared namespace's
// eth0 and takes over its address, so the host's DNS, egress policy and audit work on it unchanged.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CommandExitError, Sandbox } from 'e2b';
import { DEFAULT_MICROVM_DIR } from '../../src/backends/microvm/microvm-options.js';
import { findQemu } from '../../src/backends/microvm/qemu-host-check.js';
import { startServer, useServerEnv, type ServerProcess } from '../helpers/server-process.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';

const kernelDir = path.join(process.env['HEARTH_MICROVM_DIR'] ?? DEFAULT_MICROVM_DIR, 'kernel');
const hasKernel = existsSync(kernelDir) && readdirSync(kernelDir).some((name) => existsSync(path.join(kernelDir, name, 'vmlinux')));
const unavailable = !findQemu() ? 'QEMU is not installed' : !hasKernel ? 'no microVM guest kernel (scripts/build-guest-kernel.sh)' : undefined;

async function curl(sbx: Sandbox, args: string): Promise<string> {
  try {
    return (await sbx.commands.run(`curl -sS -m 10 -o /dev/null -w '%{http_code}' ${args}`, { timeoutMs: 60_000 })).stdout;
  } catch (error) {
    if (error instanceof CommandExitError) return `failed: ${error.stderr.trim()}`;
    throw error;
  }
}

describe('microvm sandbox network', { skip: unavailable ?? false }, () => {
  let server: ServerProcess;
  let testHost: TestHost;

  before(async () => {
    testHost = await startTestHost();
    server = await startServer({ args: ['--backend', 'microvm'], env: { HEARTH_DNS_HOSTS: testHost.dnsHosts } });
    useServerEnv(server);
  });
  after(async () => {
    await server?.destroy();
    await testHost?.close();
  });

  test('the guest holds the sandbox address; an allowed host answers through the egress policy and a denied one does not', async () => {
    const sbx = await Sandbox.create({ network: { allowOut: ['allowed.test'], denyOut: ['0.0.0.0/0'] }, timeoutMs: 300_000 });
    try {
      const links = (await sbx.commands.run('ip -o link | cut -d: -f2')).stdout.trim().split('\n').map((name) => name.trim());
      assert.deepEqual(links, ['lo', 'eth0'], 'loopback and the sandbox network only');
      assert.match((await sbx.commands.run('ip -o -4 addr show dev eth0')).stdout, /inet 10\./);
      assert.match((await sbx.commands.run('cat /etc/resolv.conf')).stdout, /^nameserver 10\./m);
      assert.equal(await curl(sbx, 'http://allowed.test/'), '200');
      assert.match(await curl(sbx, 'http://denied.test/'), /failed/, 'a denied name does not resolve');
      assert.match(await curl(sbx, `http://${testHost.deniedAddress}/`), /failed/, 'a denied address is not reached');
      await assert.rejects(sbx.commands.run('ip addr add 10.0.0.99/24 dev eth0', { user: 'root' }), 'the sandbox root cannot change the guest network');
      const audit = (await (await fetch(`${server.url}/sandboxes/${sbx.sandboxId}/egress`, { headers: { 'x-api-key': server.apiKey } })).json()) as Array<{ action: string; host: string | null }>;
      assert.ok(audit.some((entry) => entry.action === 'allow' && entry.host === 'allowed.test'), 'the allowed connection is audited against the sandbox');
    } finally {
      await sbx.kill();
    }
  });
});
