// The process service through the e2b SDK: streaming, background commands, stdin, signals, env, cwd, users.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CommandExitError, Sandbox } from 'e2b';
import { startServer, useServerEnv, type ServerProcess } from '../helpers/server-process.js';
import { eventually } from '../helpers/sandbox-fixture.js';
import { apiRequest } from '../helpers/api-request.js';

let server: ServerProcess;
let sbx: Sandbox;
before(async () => {
  server = await startServer();
  useServerEnv(server);
  sbx = await Sandbox.create({ timeoutMs: 300_000, envs: { SANDBOX_WIDE: 'from-create' } });
});
after(async () => {
  await sbx?.kill().catch(() => undefined);
  await server.destroy();
});

test('stdout and stderr stream separately and in order', async () => {
  const out: string[] = [];
  const err: string[] = [];
  const result = await sbx.commands.run('for i in 1 2 3; do echo out$i; echo err$i >&2; sleep 0.05; done', {
    onStdout: (data) => void out.push(data),
    onStderr: (data) => void err.push(data),
  });
  assert.equal(result.stdout, 'out1\nout2\nout3\n');
  assert.equal(result.stderr, 'err1\nerr2\nerr3\n');
  assert.equal(out.join(''), result.stdout);
  assert.equal(err.join(''), result.stderr);
  assert.ok(out.length >= 2, 'output arrives while the command runs, not all at the end');
});

test('a non-zero exit raises CommandExitError with the exit code and output', async () => {
  await assert.rejects(sbx.commands.run('echo partial; echo oops >&2; exit 7'), (error: unknown) => {
    assert.ok(error instanceof CommandExitError);
    assert.equal(error.exitCode, 7);
    assert.equal(error.stdout, 'partial\n');
    assert.equal(error.stderr, 'oops\n');
    return true;
  });
});

test('environment: sandbox-wide variables from create and per-command variables', async () => {
  const result = await sbx.commands.run('echo "$SANDBOX_WIDE $PER_COMMAND $HOME $USER"', { envs: { PER_COMMAND: 'from-run' } });
  assert.equal(result.stdout, 'from-create from-run /home/user user\n');
});

test('cwd and the default user, and root on request', async () => {
  assert.equal((await sbx.commands.run('pwd')).stdout, '/home/user\n');
  assert.equal((await sbx.commands.run('pwd', { cwd: '/tmp' })).stdout, '/tmp\n');
  assert.equal((await sbx.commands.run('id -u; id -un')).stdout, '1000\nuser\n');
  assert.equal((await sbx.commands.run('id -u; id -un; echo $HOME', { user: 'root' })).stdout, '0\nroot\n/root\n');
  await assert.rejects(sbx.commands.run('true', { cwd: '/does/not/exist' }));
});

test('background commands keep running, can be listed, connected to by pid and killed', async () => {
  const handle = await sbx.commands.run('for i in $(seq 1 100); do echo tick$i; sleep 0.1; done', { background: true });
  const listed = await sbx.commands.list();
  const entry = listed.find((p) => p.pid === handle.pid);
  assert.ok(entry, 'the background process is listed');
  assert.equal(entry.cmd, '/bin/bash');
  let seen = '';
  const connected = await sbx.commands.connect(handle.pid, { onStdout: (data) => void (seen += data) });
  await eventually(() => seen.includes('tick'), 5_000, 'output through a second connection');
  assert.equal(await sbx.commands.kill(handle.pid), true);
  await assert.rejects(connected.wait(), (error: unknown) => error instanceof CommandExitError && /signal/.test(error.error ?? ''));
  await eventually(async () => !(await sbx.commands.list()).some((p) => p.pid === handle.pid), 5_000, 'the process to disappear');
  assert.equal(await sbx.commands.kill(handle.pid), false);
});

test('stdin is delivered and can be closed', async () => {
  const handle = await sbx.commands.run('cat', { background: true, stdin: true });
  await sbx.commands.sendStdin(handle.pid, 'line one\n');
  await sbx.commands.sendStdin(handle.pid, 'line two\n');
  await sbx.commands.closeStdin(handle.pid);
  const result = await handle.wait();
  assert.equal(result.stdout, 'line one\nline two\n');
  assert.equal(result.exitCode, 0);
});

test('SIGTERM through the process service ends a command that traps nothing', async () => {
  const handle = await sbx.commands.run('sleep 300', { background: true });
  await handle.kill();
  await assert.rejects(handle.wait(), CommandExitError);
});

test('a command that exceeds its timeout is stopped', async () => {
  const started = Date.now();
  await assert.rejects(sbx.commands.run('sleep 30', { timeoutMs: 1_000 }));
  assert.ok(Date.now() - started < 10_000);
  await eventually(async () => !(await sbx.commands.list()).some((p) => p.cmd === '/bin/bash' && p.args.includes('sleep 30')), 5_000, 'the timed-out command to be killed');
});

test('large output arrives complete', async () => {
  const result = await sbx.commands.run('head -c 3000000 /dev/zero | tr "\\0" "x"');
  assert.equal(result.stdout.length, 3_000_000);
});

test('a pty runs an interactive shell', async () => {
  let output = '';
  const terminal = await sbx.pty.create({ cols: 80, rows: 24, onData: (data) => void (output += Buffer.from(data).toString()) });
  await sbx.pty.sendInput(terminal.pid, new TextEncoder().encode('echo pty-$((20+22))\nexit\n'));
  await terminal.wait().catch(() => undefined);
  assert.match(output, /pty-42/);
});

/** process.Process/Start as envd's other clients send it (a bare command, its own env), read to the end of the stream. */
async function startRaw(sandboxId: string, accessToken: string, processSpec: Record<string, unknown>): Promise<{ events: Array<Record<string, unknown>>; end: Record<string, unknown> }> {
  const payload = Buffer.from(JSON.stringify({ process: processSpec }));
  const head = Buffer.alloc(5);
  head.writeUInt32BE(payload.length, 1);
  const response = await fetch(`${server.url}/process.Process/Start`, {
    method: 'POST',
    headers: { 'content-type': 'application/connect+json', 'connect-protocol-version': '1', 'e2b-sandbox-id': sandboxId, 'e2b-sandbox-port': '49983', 'x-access-token': accessToken },
    body: Buffer.concat([head, payload]),
  });
  const body = Buffer.from(await response.arrayBuffer());
  const events: Array<Record<string, unknown>> = [];
  let end: Record<string, unknown> = {};
  for (let offset = 0; offset + 5 <= body.length; ) {
    const flags = body.readUInt8(offset);
    const length = body.readUInt32BE(offset + 1);
    const message = JSON.parse(body.subarray(offset + 5, offset + 5 + length).toString('utf8')) as Record<string, unknown>;
    if (flags & 0x02) end = message;
    else events.push(message);
    offset += 5 + length;
  }
  return { events, end };
}

test('a bare command name is found through the PATH the command is given, as execvp would, skipping a non-executable match', async () => {
  const created = await apiRequest(server, 'POST', '/sandboxes', { templateID: 'base', timeout: 120 });
  const sandboxId = String(created.json['sandboxID']);
  const accessToken = String(created.json['envdAccessToken']);
  try {
    const setup = await startRaw(sandboxId, accessToken, {
      cmd: '/bin/sh',
      args: ['-c', [
        'mkdir -p /tmp/first /tmp/second',
        String.raw`printf '#!/bin/sh\necho wrong\n' > /tmp/first/which-one`,
        String.raw`printf '#!/bin/sh\necho second "$@"\n' > /tmp/second/which-one && chmod 755 /tmp/second/which-one`,
        String.raw`printf 'echo no shebang "$1"\n' > /tmp/second/plain-script && chmod 755 /tmp/second/plain-script`,
      ].join(' && ')],
    });
    assert.deepEqual(setup.end, {}, 'set-up ran');
    const output = (result: { events: Array<Record<string, unknown>> }): string =>
      result.events.map((event) => (event['event'] as { data?: { stdout?: string } } | undefined)?.data?.stdout).filter(Boolean).map((data) => Buffer.from(String(data), 'base64').toString()).join('');
    const found = await startRaw(sandboxId, accessToken, { cmd: 'which-one', args: ['arg'], envs: { PATH: '/tmp/first:/tmp/second:/usr/bin:/bin' } });
    assert.equal(output(found), 'second arg\n', 'the first, non-executable match is skipped');
    const script = await startRaw(sandboxId, accessToken, { cmd: 'plain-script', args: ['x'], envs: { PATH: '/tmp/second' } });
    assert.equal(output(script), 'no shebang x\n', 'a script without #! runs under /bin/sh');
    const missing = await startRaw(sandboxId, accessToken, { cmd: 'no-such-command-here', envs: { PATH: '/tmp/first:/tmp/second' } });
    const error = missing.end['error'] as { code?: string; message?: string } | undefined;
    assert.ok(error?.message?.includes('no-such-command-here'), `the error names the command: ${JSON.stringify(missing.end)}`);
  } finally {
    await apiRequest(server, 'DELETE', `/sandboxes/${sandboxId}`);
  }
});
