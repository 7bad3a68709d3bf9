// Sandbox networking end to end: each sandbox on its own address behind Hearth's bridge; egress allowed and
// denied by domain and CIDR (checked against DNS answers and SNI/Host, so IP literals do not bypass it); an audit
// log through the API and CLI; no reaching the host or other sandboxes; ports through getHost.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { CommandExitError, Sandbox } from 'e2b';
import { runCli, startServer, useServerEnv, type ServerProcess } from '../helpers/server-process.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';
import { eventually } from '../helpers/sandbox-fixture.js';
import { apiRequest, type ApiResponse } from '../helpers/api-request.js';

let server: ServerProcess;
let testHost: TestHost;

before(async () => {
  testHost = await startTestHost();
  server = await startServer({ env: { HEARTH_DNS_HOSTS: testHost.dnsHosts } });
  useServerEnv(server);
});
after(async () => {
  await server?.destroy();
  await testHost?.close();
});

interface AuditEntry {
  action: string;
  protocol: string;
  host: string | null;
  address: string | null;
  port: number | null;
  reason: string;
}

const api = (method: string, route: string, body?: unknown): Promise<ApiResponse> => apiRequest(server, method, route, body);

async function audit(sandboxId: string): Promise<AuditEntry[]> {
  const { status, json } = await api('GET', `/sandboxes/${sandboxId}/egress`);
  assert.equal(status, 200);
  return json as unknown as AuditEntry[];
}

/** `curl` inside the sandbox; resolves with the HTTP status, or the curl error line when it failed. */
async function curl(sbx: Sandbox, args: string): Promise<string> {
  try {
    return (await sbx.commands.run(`curl -sS -m 5 -o /dev/null -w '%{http_code}' ${args}`)).stdout;
  } catch (error) {
    if (error instanceof CommandExitError) return `failed: ${error.stderr.trim()}`;
    throw error;
  }
}

test('allowOut by domain with denyOut 0.0.0.0/0: the allowed domain answers; a denied domain, IP literals and a forged Host do not; all audited', async () => {
  const sbx = await Sandbox.create({ network: { allowOut: ['allowed.test'], denyOut: ['0.0.0.0/0'] } });
  try {
    assert.equal(await curl(sbx, 'http://allowed.test/'), '200');
    assert.match(await curl(sbx, 'http://denied.test/'), /failed: .*resolve/i, 'the resolver refuses a denied name');
    assert.match(await curl(sbx, `--resolve denied.test:80:${testHost.deniedAddress} http://denied.test/`), /failed/);
    assert.match(await curl(sbx, `http://${testHost.deniedAddress}/`), /failed/, 'an IP literal does not bypass the policy');
    assert.match(await curl(sbx, `-H 'Host: allowed.test' http://${testHost.deniedAddress}/`), /failed/, 'naming an allowed host while dialling another address fails');
    assert.match(await curl(sbx, `--connect-to allowed.test:443:${testHost.deniedAddress}:80 https://allowed.test/`), /failed/, 'a TLS server name is checked against DNS too');

    const entries = await audit(sbx.sandboxId);
    const allowed = entries.find((entry) => entry.action === 'allow' && entry.host === 'allowed.test');
    assert.ok(allowed, 'the allowed connection is audited');
    assert.equal(allowed.address, testHost.allowedAddress);
    assert.equal(allowed.port, 80);
    assert.ok(entries.some((entry) => entry.action === 'deny' && entry.protocol === 'dns' && entry.host === 'denied.test'), 'the refused lookup is audited');
    assert.ok(entries.some((entry) => entry.action === 'deny' && entry.address === testHost.deniedAddress && entry.reason.includes('0.0.0.0/0')), 'the IP literal is audited');
    assert.ok(entries.some((entry) => entry.action === 'deny' && entry.host === 'allowed.test' && entry.reason.includes('does not resolve')), 'the forged Host is audited');
    assert.ok(entries.some((entry) => entry.action === 'deny' && entry.protocol === 'tls' && entry.host === 'allowed.test'), 'the forged SNI is audited');

    const cli = await runCli(server, ['egress', sbx.sandboxId]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /allow\s+http\s+allowed\.test/);
    assert.match(cli.stdout, /deny\s+dns\s+denied\.test/);
  } finally {
    await sbx.kill();
  }
});

test('wildcards, CIDR rules, allowInternetAccess: false and a live network update', async () => {
  const wildcard = await Sandbox.create({ network: { allowOut: ['*.allowed.test'], denyOut: ['0.0.0.0/0'] } });
  const cidr = await Sandbox.create({ network: { allowOut: [`${testHost.deniedAddress}/32`], denyOut: ['0.0.0.0/0'] } });
  const offline = await Sandbox.create({ allowInternetAccess: false });
  try {
    assert.equal(await curl(wildcard, 'http://api.allowed.test/'), '200', '*.allowed.test matches a subdomain');
    assert.match(await curl(wildcard, 'http://allowed.test/'), /failed/, 'but not the apex');
    assert.equal(await curl(cidr, `http://${testHost.deniedAddress}/`), '200', 'a CIDR rule allows an address');
    assert.match(await curl(cidr, 'http://allowed.test/'), /failed/);
    assert.match(await curl(cidr, `http://${testHost.allowedAddress}/`), /failed/, 'an address this sandbox never looked up an allowed name for stays denied');
    assert.match(await curl(offline, 'http://allowed.test/'), /failed/);
    assert.equal((await offline.getInfo()).allowInternetAccess, false);

    await offline.updateNetwork({ allowOut: ['allowed.test'], denyOut: ['0.0.0.0/0'] });
    assert.equal(await curl(offline, 'http://allowed.test/'), '200', 'the update applies to new connections at once');
    const info = await api('GET', `/sandboxes/${offline.sandboxId}`);
    assert.deepEqual((info.json as { network: { allowOut: string[] } }).network.allowOut, ['allowed.test']);
  } finally {
    await Promise.all([wildcard.kill(), cidr.kill(), offline.kill()]);
  }
});

test('an unrestricted sandbox reaches neither private addresses, the host, nor another sandbox', async () => {
  const [a, b] = await Promise.all([Sandbox.create(), Sandbox.create()]);
  try {
    const addressOf = async (sbx: Sandbox): Promise<string> => ((await api('GET', `/sandboxes/${sbx.sandboxId}`)).json as { address: string }).address;
    const [addressA, addressB] = await Promise.all([addressOf(a), addressOf(b)]);
    assert.notEqual(addressA, addressB);
    assert.match((await a.commands.run('hostname -I')).stdout, new RegExp(addressA.replace(/\./g, '\\.')));
    assert.match(await curl(a, `http://${testHost.deniedAddress}/`), /failed/, 'private ranges need an explicit allow');
    await b.commands.run('python3 -m http.server 8000 --bind 0.0.0.0 >/dev/null 2>&1', { background: true });
    await eventually(async () => (await b.commands.run('curl -s -o /dev/null -w "%{http_code}" http://127.0.0.1:8000/').catch(() => ({ stdout: '' }))).stdout === '200', 10_000, 'server in b');
    assert.match(await curl(a, `http://${addressB}:8000/`), /failed/, 'sandboxes cannot reach each other');
    const gateway = addressA.replace(/\.\d+$/, '.1');
    const apiPort = new URL(server.url).port;
    assert.match(await curl(a, `http://${gateway}:${apiPort}/health`), /failed/, 'the host is not reachable on the bridge');
    assert.match(await curl(a, `http://${gateway}:22/`), /failed/);
    // sandbox-to-sandbox traffic never leaves the bridge (isolated ports do not even pass ARP), so there is no
    // connection to audit; the private-range and host attempts above are audited
    const entries = await audit(a.sandboxId);
    assert.ok(entries.some((entry) => entry.action === 'deny' && entry.address === testHost.deniedAddress && entry.reason.includes('private')));
  } finally {
    await Promise.all([a.kill(), b.kill()]);
  }
});

function getThroughHearth(hostHeader: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const request = http.request({ host: hostname, port, path: '/', headers: { host: hostHeader, ...headers } }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
    request.end();
  });
}

test('a port inside the sandbox is reachable through getHost; a private sandbox needs its traffic token', async () => {
  const open = await Sandbox.create();
  const closed = await Sandbox.create({ network: { allowPublicTraffic: false } });
  try {
    for (const sbx of [open, closed]) {
      await sbx.commands.run('mkdir -p /tmp/site && echo served-from-sandbox > /tmp/site/index.html && cd /tmp/site && python3 -m http.server 8080 --bind 0.0.0.0 >/dev/null 2>&1', { background: true });
      await eventually(async () => (await sbx.commands.run('curl -s http://127.0.0.1:8080/').catch(() => ({ stdout: '' }))).stdout.includes('served'), 10_000, 'server');
    }
    const host = open.getHost(8080);
    assert.equal(host, `8080-${open.sandboxId}.${new URL(server.url).hostname === '127.0.0.1' ? 'localhost' : new URL(server.url).hostname}:${new URL(server.url).port}`);
    const reply = await getThroughHearth(host);
    assert.equal(reply.status, 200);
    assert.match(reply.body, /served-from-sandbox/);

    const denied = await getThroughHearth(closed.getHost(8080));
    assert.equal(denied.status, 403);
    assert.ok(closed.trafficAccessToken, 'create returns a traffic access token for a private sandbox');
    const allowed = await getThroughHearth(closed.getHost(8080), { 'e2b-traffic-access-token': closed.trafficAccessToken ?? '' });
    assert.equal(allowed.status, 200);

    const nothing = await getThroughHearth(open.getHost(9999));
    assert.equal(nothing.status, 502);
    assert.match(nothing.body, /nothing listens on port 9999/);
  } finally {
    await Promise.all([open.kill(), closed.kill()]);
  }
});

const UPGRADE_ECHO_SERVER = `
import socket, threading
server = socket.socket(); server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(('0.0.0.0', 8090)); server.listen()
def serve(conn):
    head = b''
    while b'\\r\\n\\r\\n' not in head: head += conn.recv(1024)
    conn.sendall(b'HTTP/1.1 101 Switching Protocols\\r\\nUpgrade: echo\\r\\nConnection: Upgrade\\r\\n\\r\\n')
    while True:
        data = conn.recv(1024)
        if not data: break
        conn.sendall(data.upper())
while True:
    conn, _ = server.accept(); threading.Thread(target=serve, args=(conn,), daemon=True).start()
`;

test('protocol upgrades (WebSockets) through getHost reach the sandbox and stream both ways', async () => {
  const sbx = await Sandbox.create();
  try {
    await sbx.files.write('/tmp/upgrade_echo.py', UPGRADE_ECHO_SERVER);
    await sbx.commands.run('python3 /tmp/upgrade_echo.py', { background: true });
    await eventually(async () => (await sbx.commands.run('ss -ltn | grep -q :8090').then(() => true, () => false)), 10_000, 'echo server');
    const { hostname, port } = new URL(server.url);
    const echoed = await new Promise<string>((resolve, reject) => {
      const request = http.request({ host: hostname, port, path: '/', headers: { host: sbx.getHost(8090), connection: 'Upgrade', upgrade: 'echo' } });
      request.on('upgrade', (response, socket) => {
        assert.equal(response.statusCode, 101);
        socket.once('data', (data: Buffer) => {
          resolve(data.toString());
          socket.destroy();
        });
        socket.write('ping over the upgraded stream');
      });
      request.on('response', (response) => reject(new Error(`no upgrade: ${response.statusCode}`)));
      request.on('error', reject);
      request.end();
    });
    assert.equal(echoed, 'PING OVER THE UPGRADED STREAM');
  } finally {
    await sbx.kill();
  }
});

test('a pooled sandbox takes the create request\'s policy when claimed', async () => {
  await eventually(async () => {
    const pools = (await api('GET', '/admin/pools')).json as unknown as Array<{ templateId: string; ready: number }>;
    return (pools.find((pool) => pool.templateId === 'base')?.ready ?? 0) > 0;
  }, 60_000, 'a warm pooled sandbox');
  const sbx = await Sandbox.create({ network: { allowOut: ['allowed.test'], denyOut: ['0.0.0.0/0'] } });
  try {
    assert.equal(await curl(sbx, 'http://allowed.test/'), '200');
    assert.match(await curl(sbx, `http://${testHost.deniedAddress}/`), /failed/);
  } finally {
    await sbx.kill();
  }
});
