// Secrets: sealed at rest with a key outside the database, served only to granted sandboxes by the metadata
// service (token first), injected as a header by the egress proxy, revocable while sandboxes run, and never
// written in plain text to the database, the data directory or the server log.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { CommandExitError, Sandbox } from 'e2b';
import { runCli, startServer, useServerEnv, type ServerProcess } from '../helpers/server-process.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';
import { apiRequest, type ApiResponse } from '../helpers/api-request.js';

const SECRET_VALUE = 'sk-hearth-test-4b1d9e0c77f2';
let server: ServerProcess;
let testHost: TestHost;

before(async () => {
  testHost = await startTestHost();
  server = await startServer({ env: { HEARTH_DNS_HOSTS: testHost.dnsHosts, HEARTH_EGRESS_UPSTREAM_CA_FILE: testHost.caFile } });
  useServerEnv(server);
});
after(async () => {
  await server?.destroy();
  await testHost?.close();
});

const api = (method: string, route: string, body?: unknown): Promise<ApiResponse> => apiRequest(server, method, route, body);

async function createWith(body: Record<string, unknown>): Promise<Sandbox> {
  const created = await api('POST', '/sandboxes', { templateID: 'base', ...body });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  return Sandbox.connect(created.json['sandboxID'] as string);
}

async function run(sbx: Sandbox, command: string): Promise<string> {
  try {
    return (await sbx.commands.run(command)).stdout;
  } catch (error) {
    if (error instanceof CommandExitError) return `exit ${error.exitCode}: ${error.stdout}${error.stderr}`;
    throw error;
  }
}

const TOKEN = 'curl -s -X PUT -H "x-hearth-metadata-token-ttl-seconds: 300" http://169.254.169.254/latest/api/token';
const readSecret = (token: string, name = 'OPENAI_KEY'): string =>
  `curl -s -w ' %{http_code}' -H "x-hearth-metadata-token: ${token}" http://metadata.hearth.internal/latest/secrets/${name}`;

test('a granted secret is read through the metadata service with a token; other sandboxes and stolen tokens get nothing', async () => {
  const set = await runCli(server, ['secret', 'set', 'OPENAI_KEY', '--value', SECRET_VALUE]);
  assert.equal(set.code, 0, set.stderr);
  const listed = await runCli(server, ['secret', 'ls']);
  assert.match(listed.stdout, /OPENAI_KEY/);
  assert.doesNotMatch(listed.stdout, new RegExp(SECRET_VALUE));

  const owner = await createWith({ secrets: ['OPENAI_KEY'] });
  const other = await createWith({});
  try {
    assert.match(await run(owner, 'curl -s -w " %{http_code}" http://169.254.169.254/latest/secrets/OPENAI_KEY'), / 401$/, 'no token, no secret');
    const token = (await run(owner, TOKEN)).trim();
    assert.ok(token.length > 20);
    assert.equal(await run(owner, readSecret(token)), `${SECRET_VALUE} 200`);
    assert.equal((await run(owner, `curl -s -H "x-hearth-metadata-token: ${token}" http://169.254.169.254/latest/secrets`)).trim(), '["OPENAI_KEY"]');
    assert.doesNotMatch(await run(owner, 'env'), new RegExp(SECRET_VALUE), 'the value is not in the environment');

    assert.match(await run(other, readSecret(token)), / 401$/, "another sandbox cannot use the owner's token");
    const otherToken = (await run(other, TOKEN)).trim();
    assert.match(await run(other, readSecret(otherToken)), /not granted[\s\S]* 404$/, 'nor read a secret it was not granted');
    assert.match(await run(owner, `curl -s -w ' %{http_code}' -H "x-forwarded-for: 1.2.3.4" -H "x-hearth-metadata-token: ${token}" http://169.254.169.254/latest/secrets/OPENAI_KEY`), / 403$/, 'relayed requests are refused');

    const revoked = await api('DELETE', `/sandboxes/${owner.sandboxId}/secrets/OPENAI_KEY`);
    assert.equal(revoked.status, 204);
    assert.match(await run(owner, readSecret(token)), / 404$/, 'revocation takes effect in the running sandbox');
  } finally {
    await Promise.all([owner.kill(), other.kill()]);
  }
});

test('the egress proxy injects a secret as a header the sandbox never sees; deleting the secret stops it', async () => {
  await api('PUT', '/secrets/UPSTREAM_TOKEN', { value: SECRET_VALUE });
  const sbx = await createWith({
    secrets: ['UPSTREAM_TOKEN'],
    network: {
      allowOut: ['allowed.test'],
      denyOut: ['0.0.0.0/0'],
      rules: { 'allowed.test': [{ transform: { headers: { Authorization: 'Bearer {{ secrets.UPSTREAM_TOKEN }}', 'X-Team': 'agents' } } }] },
    },
  });
  try {
    const before = (await testHost.requests()).length;
    assert.match(await run(sbx, 'curl -s http://allowed.test/ -H "Authorization: Bearer forged"'), /hello from the test host/);
    const seen = (await testHost.requests()).slice(before);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]?.['authorization'], `Bearer ${SECRET_VALUE}`, 'the proxy replaced the header with the secret');
    assert.equal(seen[0]?.['x-team'], 'agents');

    // HTTPS too: the proxy presents a certificate from Hearth's CA, which the sandbox's trust store holds
    const secureBefore = (await testHost.requests()).length;
    assert.match(await run(sbx, 'curl -sS https://allowed.test/'), /hello from the test host/);
    assert.match(await run(sbx, 'python3 -c "import urllib.request; print(urllib.request.urlopen(\'https://allowed.test/\').read().decode())"'), /hello from the test host/);
    const secureSeen = (await testHost.requests()).slice(secureBefore);
    assert.equal(secureSeen.length, 2);
    for (const request of secureSeen) {
      assert.equal(request['x-test-scheme'], 'https');
      assert.equal(request['authorization'], `Bearer ${SECRET_VALUE}`);
    }
    assert.match(await run(sbx, 'openssl s_client -connect allowed.test:443 -servername allowed.test </dev/null 2>/dev/null | grep "issuer="'), /Hearth egress proxy CA/);

    const deleted = await runCli(server, ['secret', 'rm', 'UPSTREAM_TOKEN']);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(await run(sbx, 'curl -s -o /dev/null -w "%{http_code}" http://allowed.test/'), '403', 'a deleted secret is no longer injected; the request is stopped');
    assert.equal((await testHost.requests()).length, before + 3);
    const audit = (await api('GET', `/sandboxes/${sbx.sandboxId}/egress`)).json as unknown as Array<{ action: string; reason: string }>;
    assert.ok(audit.some((entry) => entry.action === 'deny' && entry.reason.includes('UPSTREAM_TOKEN')));
  } finally {
    await sbx.kill();
  }
});

test('bad secret requests get typed errors', async () => {
  const expectError = async (method: string, route: string, body: unknown, status: number, errorCode: string): Promise<void> => {
    const reply = await api(method, route, body);
    assert.equal(reply.status, status, `${method} ${route}`);
    assert.equal(reply.json['errorCode'], errorCode, `${method} ${route}`);
    assert.equal(reply.json['code'], status);
    assert.equal(typeof reply.json['message'], 'string');
  };
  await expectError('PUT', '/secrets/bad%20name!', { value: 'x' }, 400, 'invalid_argument');
  await expectError('PUT', '/secrets/OK_NAME', { value: 42 }, 400, 'invalid_argument');
  await expectError('PUT', '/secrets/OK_NAME', { value: 'x'.repeat(70_000) }, 400, 'invalid_argument');
  await expectError('DELETE', '/secrets/NEVER_SET', undefined, 404, 'secret_not_found');
  await expectError('POST', '/sandboxes', { templateID: 'base', secrets: ['NEVER_SET'] }, 404, 'secret_not_found');
  await expectError('POST', '/sandboxes', { templateID: 'base', network: { allowOut: ['not a domain!'] } }, 400, 'invalid_argument');
  await expectError('POST', '/sandboxes', { templateID: 'base', network: { denyOut: ['10.0.0.0/33'] } }, 400, 'invalid_argument');
  await expectError('POST', '/sandboxes', { templateID: 'base', network: { rules: { 'a.test': [{ transform: { headers: { 'X-A': 'x\r\ny' } } }] } } }, 400, 'invalid_argument');
  await expectError('POST', '/sandboxes', { templateID: 'base', network: { egressProxy: { address: 'proxy:1080' } } }, 501, 'unsupported');
  await expectError('POST', '/sandboxes', { templateID: 'base', allow_internet_access: 'no' }, 400, 'invalid_argument');
  assert.equal((await api('POST', '/sandboxes', { templateID: 'base', secrets: 'OPENAI_KEY' })).status, 400);
  assert.equal((await api('GET', '/sandboxes/nosuchsandbox/egress')).status, 404);
});

test('secret values appear nowhere in plain text: not in the database, the data directory or the log; the key file is separate and private', () => {
  const keyFile = path.join(server.dataDir, 'keys', 'secrets.key');
  assert.equal(statSync(keyFile).mode & 0o777, 0o600);
  const holding: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      // sandboxes.img is the filesystem mounted at sandboxes/, whose files this walk reads through the mount
      else if (entry.isFile() && entry.name !== 'sandboxes.img' && readFileSync(file).includes(SECRET_VALUE)) holding.push(file);
    }
  };
  walk(server.dataDir);
  assert.deepEqual(holding, [], 'no file in the data directory (database, WAL, sandbox layers) holds the value');
  assert.doesNotMatch(server.output(), new RegExp(SECRET_VALUE));
});
