// Templates from Dockerfiles: build, cache, logs, start command and ready check, aliases, deletion, errors.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Sandbox, Template } from 'e2b';
import { runCli, startServer, useServerEnv, type ServerProcess } from '../helpers/server-process.js';
import { testTempDir } from '../helpers/test-run.js';

let server: ServerProcess;
const contextDir = testTempDir('context-');

function dockerfile(lastLine: string): string {
  return [
    'FROM base',
    'ARG GREETING_WORD=hello',
    'ENV GREETING="${GREETING_WORD} from the template" APP_PORT=8080',
    'RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends hello > /dev/null && rm -rf /var/lib/apt/lists/*',
    'WORKDIR /srv/app',
    'COPY index.html ./',
    'COPY --chown=user:user notes.txt /home/user/notes.txt',
    'CMD python3 -m http.server ${APP_PORT} --directory /srv/app',
    lastLine,
  ].join('\n');
}

before(async () => {
  writeFileSync(path.join(contextDir, 'index.html'), '<h1>served from a template</h1>\n');
  writeFileSync(path.join(contextDir, 'notes.txt'), 'copied notes\n');
  writeFileSync(path.join(contextDir, 'secret.env'), 'TOKEN=do-not-copy\n');
  writeFileSync(path.join(contextDir, '.dockerignore'), '*.env\n');
  server = await startServer();
  useServerEnv(server);
});
after(async () => {
  await server.destroy();
  rmSync(contextDir, { recursive: true, force: true });
});

function writeDockerfile(name: string, text: string): string {
  const file = path.join(contextDir, name);
  writeFileSync(file, text);
  return file;
}

test('a Dockerfile builds a template whose sandboxes have its packages, files, env, workdir and running service', async () => {
  const file = writeDockerfile('Dockerfile', dockerfile('LABEL stage=one'));
  const built = await runCli(server, ['template', 'build', '-f', file, '-t', 'web', contextDir, '--ready-cmd', 'curl -sf http://127.0.0.1:8080/ > /dev/null']);
  assert.equal(built.code, 0, built.stdout + built.stderr);
  assert.match(built.stdout, /step 4\/9 \(line 4\): RUN apt-get/);
  assert.match(built.stdout, /template web ready/);
  const sbx = await Sandbox.create('web');
  try {
    assert.equal((await sbx.commands.run('hello')).stdout, 'Hello, world!\n');
    assert.equal((await sbx.commands.run('echo "$GREETING"')).stdout, 'hello from the template\n');
    assert.equal((await sbx.commands.run('pwd')).stdout, '/srv/app\n');
    assert.equal((await sbx.commands.run('curl -s http://127.0.0.1:8080/index.html')).stdout, '<h1>served from a template</h1>\n', 'the start command serves HTTP once create returns');
    assert.equal(await sbx.files.read('/home/user/notes.txt'), 'copied notes\n');
    assert.equal((await sbx.files.getInfo('/home/user/notes.txt')).owner, 'user');
    assert.equal(await sbx.files.exists('/srv/app/secret.env'), false, '.dockerignore keeps files out');
    const hostResolvConf = readFileSync('/etc/resolv.conf', 'utf8');
    const sandboxResolvConf = await sbx.files.read('/etc/resolv.conf');
    assert.notEqual(sandboxResolvConf, hostResolvConf, 'build-time DNS (the host\'s) is not baked in');
    assert.match(sandboxResolvConf, /^nameserver 10\.\d+\.\d+\.1\n$/, "the sandbox's resolver is its network's gateway");
    assert.ok((await sbx.commands.list()).some((p) => p.args.join(' ').includes('http.server')), 'the start command is a listed process');
  } finally {
    await sbx.kill();
  }
  const inspected = JSON.parse((await runCli(server, ['template', 'inspect', 'web'])).stdout) as { layers: number; sizeBytes: number; buildMs: number; config: { startCmd: string } };
  assert.ok(inspected.layers >= 5);
  assert.ok(inspected.sizeBytes > 0 && inspected.buildMs > 0);
  assert.match(inspected.config.startCmd, /http\.server/);
});

test('changing the last line rebuilds only that step and says so', async () => {
  // Layers are cached across runs on one machine: a fresh last line guarantees exactly one step to build.
  const nonce = `${Date.now()}-${process.pid}`;
  const file = writeDockerfile('Dockerfile', dockerfile(`RUN echo changed ${nonce} > /srv/app/changed.txt`));
  const rebuilt = await runCli(server, ['template', 'build', '-f', file, '-t', 'web', contextDir, '--ready-cmd', 'curl -sf http://127.0.0.1:8080/ > /dev/null']);
  assert.equal(rebuilt.code, 0, rebuilt.stderr);
  assert.match(rebuilt.stdout, /RUN apt-get.*\[cached\]/);
  assert.match(rebuilt.stdout, /COPY index\.html \.\/\s+\[cached\]/);
  assert.doesNotMatch(rebuilt.stdout, /RUN echo changed.*\[cached\]/);
  assert.match(rebuilt.stdout, /1 built, 4 from cache/);
  const sbx = await Sandbox.create('web');
  try {
    assert.equal(await sbx.files.read('/srv/app/changed.txt'), `changed ${nonce}\n`);
  } finally {
    await sbx.kill();
  }
});

test('a broken Dockerfile fails with its line number and keeps nothing', async () => {
  const unsupported = await runCli(server, ['template', 'build', '-f', writeDockerfile('Bad1', 'FROM base\nRUN true\nVOLUME /data\n'), '-t', 'bad', contextDir]);
  assert.notEqual(unsupported.code, 0);
  assert.match(unsupported.stdout + unsupported.stderr, /Dockerfile line 3: VOLUME is not supported/);
  const failing = await runCli(server, ['template', 'build', '-f', writeDockerfile('Bad2', 'FROM base\nRUN echo fine\nRUN exit 7\n'), '-t', 'bad', contextDir]);
  assert.notEqual(failing.code, 0);
  assert.match(failing.stdout + failing.stderr, /Dockerfile line 3: RUN failed with exit code 7/);
  const missing = await runCli(server, ['template', 'build', '-f', writeDockerfile('Bad3', 'FROM base\nCOPY nowhere.txt /x\n'), '-t', 'bad', contextDir]);
  assert.match(missing.stdout + missing.stderr, /Dockerfile line 2: COPY source nowhere.txt was not found/);
  const escape = await runCli(server, ['template', 'build', '-f', writeDockerfile('Bad4', 'FROM base\nCOPY ../../etc/passwd /x\n'), '-t', 'bad', contextDir]);
  assert.match(escape.stdout + escape.stderr, /outside the build context/);
  const registry = await runCli(server, ['template', 'build', '-f', writeDockerfile('Bad5', 'FROM ubuntu:22.04\n'), '-t', 'bad', contextDir]);
  assert.match(registry.stdout + registry.stderr, /Dockerfile line 1: FROM ubuntu:22.04: there is no registry/);
  assert.equal((await fetch(`${server.url}/templates/bad`, { headers: { 'x-api-key': server.apiKey } })).status, 404);
});

test('concurrent builds of different templates both succeed', async () => {
  const first = writeDockerfile('DockerfileA', 'FROM base\nRUN echo a > /a.txt\n');
  const second = writeDockerfile('DockerfileB', 'FROM base\nRUN echo b > /b.txt\n');
  const [a, b] = await Promise.all([
    runCli(server, ['template', 'build', '-f', first, '-t', 'tpl-a', contextDir]),
    runCli(server, ['template', 'build', '-f', second, '-t', 'tpl-b', contextDir]),
  ]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  const sbx = await Sandbox.create('tpl-b');
  try {
    assert.equal(await sbx.files.read('/b.txt'), 'b\n');
    assert.equal(await sbx.files.exists('/a.txt'), false);
  } finally {
    await sbx.kill();
  }
});

test('templates can be aliased, listed, and deleted only when unused', async () => {
  assert.equal((await runCli(server, ['template', 'alias', 'tpl-a', 'alpha'])).code, 0);
  const listed = await runCli(server, ['template', 'ls']);
  assert.match(listed.stdout, /^tpl-a\s+alpha\s/m);
  const sbx = await Sandbox.create('alpha');
  try {
    assert.equal(await sbx.files.read('/a.txt'), 'a\n');
    const refused = await runCli(server, ['template', 'rm', 'tpl-a']);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /409.*in use by 1 sandbox/);
  } finally {
    await sbx.kill();
  }
  assert.equal((await runCli(server, ['template', 'rm', 'alpha'])).code, 0);
  await assert.rejects(Sandbox.create('tpl-a'), /not found/);
});

test("the e2b SDK's template workflow builds a template Sandbox.create can use", async () => {
  writeFileSync(path.join(contextDir, 'sdk-page.html'), '<p>built through the SDK</p>\n');
  const logs: string[] = [];
  const template = Template({ fileContextPath: contextDir })
    .fromTemplate('base')
    .copy('sdk-page.html', '/srv/sdk/index.html')
    .setEnvs({ SDK_VAR: 'from-sdk' })
    .runCmd(`echo "$SDK_VAR" > /srv/sdk/env.txt && id -un > /srv/sdk/whoami.txt`, { user: 'root' })
    .setWorkdir('/srv/sdk')
    .setStartCmd('python3 -m http.server 8090 --directory /srv/sdk', 'curl -sf http://127.0.0.1:8090/ > /dev/null');
  await Template.build(template, 'sdk-web', { onBuildLogs: (entry) => void logs.push(entry.message) });
  assert.ok(logs.some((line) => line.includes('template sdk-web ready')), logs.join('\n'));
  const sbx = await Sandbox.create('sdk-web');
  try {
    assert.equal((await sbx.commands.run('curl -s http://127.0.0.1:8090/index.html')).stdout, '<p>built through the SDK</p>\n');
    assert.equal(await sbx.files.read('/srv/sdk/env.txt'), 'from-sdk\n');
    assert.equal(await sbx.files.read('/srv/sdk/whoami.txt'), 'root\n');
    assert.equal((await sbx.commands.run('pwd')).stdout, '/srv/sdk\n');
  } finally {
    await sbx.kill();
  }
  assert.equal(await Template.exists('sdk-web'), true);
  assert.equal(await Template.exists('never-built'), false);
  const broken = Template({ fileContextPath: contextDir }).fromTemplate('base').runCmd('exit 3');
  await assert.rejects(Template.build(broken, 'sdk-broken'), /RUN failed with exit code 3/);
});

test('FROM a Debian suite, USER for later steps, and a warm pool of a built template', async () => {
  const file = writeDockerfile('DockerfileDebian', [
    'FROM debian:bookworm',
    'RUN test -f /etc/debian_version && id -u user',
    'USER user',
    'RUN whoami > /home/user/built-as.txt',
    'CMD sleep infinity',
  ].join('\n'));
  const built = await runCli(server, ['template', 'build', '-f', file, '-t', 'plain-debian', contextDir]);
  assert.equal(built.code, 0, built.stdout + built.stderr);
  const pool = await runCli(server, ['pool', 'set', 'plain-debian', '1']);
  assert.equal(pool.code, 0, pool.stderr);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const pools = (await (await fetch(`${server.url}/admin/pools`, { headers: { 'x-api-key': server.apiKey } })).json()) as Array<{ templateId: string; ready: number }>;
    if (pools.find((p) => p.templateId === 'plain-debian')?.ready === 1) break;
    assert.ok(Date.now() < deadline, 'the template pool fills');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const sbx = await Sandbox.create('plain-debian');
  try {
    assert.equal(await sbx.files.read('/home/user/built-as.txt'), 'user\n');
    assert.match((await sbx.commands.run('cat /etc/debian_version')).stdout, /^12\./);
    assert.ok((await sbx.commands.list()).some((p) => p.args.join(' ').includes('sleep infinity')), 'the pooled sandbox already runs its start command');
    const refused = await runCli(server, ['template', 'rm', 'plain-debian']);
    assert.match(refused.stderr, /in use/);
  } finally {
    await sbx.kill();
  }
  assert.equal((await runCli(server, ['pool', 'set', 'plain-debian', '0'])).code, 0);
});

test('template API errors are typed: bad upload signatures, unknown builds, registry credentials, unknown steps', async () => {
  const headers = { 'x-api-key': server.apiKey, 'content-type': 'application/json' };
  // Uploads persist in the templates directory across runs: a fresh hash each run.
  const hash = randomBytes(32).toString('hex');
  const link = (await (await fetch(`${server.url}/templates/any/files/${hash}`, { headers })).json()) as { present: boolean; url: string };
  assert.equal(link.present, false);
  const tampered = link.url.replace(/signature=[0-9a-f]+/, `signature=${'0'.repeat(64)}`);
  assert.equal((await fetch(tampered, { method: 'PUT', body: 'x' })).status, 403);
  const expired = link.url.replace(/expires=\d+/, 'expires=1000');
  assert.equal((await fetch(expired, { method: 'PUT', body: 'x' })).status, 403);
  assert.equal((await fetch(link.url, { method: 'PUT', body: 'tar bytes' })).status, 201, 'the signed URL itself works without the API key');
  assert.equal((await fetch(`${server.url}/templates/any/builds/bld_nope/status`, { headers })).status, 404);
  assert.equal((await fetch(`${server.url}/v2/templates/any/builds/bld_nope`, { method: 'POST', headers, body: '{"steps":[]}' })).status, 404);
  const reserve = async (): Promise<string> => ((await (await fetch(`${server.url}/v3/templates`, { method: 'POST', headers, body: '{"name":"sdk-errors"}' })).json()) as { buildID: string }).buildID;
  const registry = await fetch(`${server.url}/v2/templates/sdk-errors/builds/${await reserve()}`, { method: 'POST', headers, body: JSON.stringify({ fromImage: 'private/image', fromImageRegistry: { type: 'registry' }, steps: [] }) });
  assert.equal(registry.status, 501);
  assert.equal(((await registry.json()) as { errorCode: string }).errorCode, 'unsupported');
  const step = await fetch(`${server.url}/v2/templates/sdk-errors/builds/${await reserve()}`, { method: 'POST', headers, body: JSON.stringify({ fromTemplate: 'base', steps: [{ type: 'HEALTHCHECK', args: [] }] }) });
  assert.equal(step.status, 501);
  assert.match(((await step.json()) as { message: string }).message, /template step HEALTHCHECK is not supported/);
  assert.equal((await fetch(`${server.url}/v3/templates`, { method: 'POST', headers, body: '{"name":"Bad Name!"}' })).status, 400);
});
