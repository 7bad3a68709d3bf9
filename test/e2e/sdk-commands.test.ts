// The process service through the e2b SDK: streaming, background commands, stdin, signals, env, cwd, users.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CommandExitError, Sandbox } from 'e2b';
import { startServer, useServerEnv, type ServerProcess } from '../helpers/server-process.js';
import { eventually } from '../helpers/sandbox-fixture.js';

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
