// The Backend contract suite: every backend runs these same behaviour tests through a real `hearth serve`
// (started with `--backend KIND`) and the e2b SDK. A backend that cannot pass one names the test in
// `skips` with the reason, which node:test prints.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { CommandExitError, Sandbox } from 'e2b';
import { startServer, useServerEnv, type ServerProcess } from '../helpers/server-process.js';
import { eventually, withSandbox } from '../helpers/sandbox-fixture.js';
import { apiRequest, type ApiResponse } from '../helpers/api-request.js';
import { sandboxCgroupDir } from '../helpers/test-run.js';

export const BACKEND_CONTRACT_TESTS = [
  'starts a sandbox whose supervisor answers as PID 1 and runs commands as the unprivileged user',
  'writes and reads files through the API, visible to commands',
  'enforces and shows the memory, pids and CPU limits',
  'a memory hog fails inside the sandbox, which keeps working',
  'a fork bomb fails inside the sandbox, which keeps working',
  'two sandboxes are isolated from each other',
  'tool files are mounted read-only at /run/hearth/tools and can be replaced',
  'a pooled sandbox is frozen until claimed and works once thawed',
  'stop kills every process and frees cgroups, mounts and directories',
  'after a daemon restart a live sandbox is alive again, a dead one and an orphan are reaped',
  'pause frees the processes and resume brings back the same ones with their files',
  'forks continue from the source and are independent of it and of each other',
] as const;
export type BackendContractTest = (typeof BACKEND_CONTRACT_TESTS)[number];

export interface BackendContractOptions {
  /** Value of `hearth serve --backend`. */
  kind: string;
  /** Set when the whole backend cannot run on this host (e.g. runsc missing): every test skips with it. */
  unavailable?: string;
  /** Tests this backend skips, each with its reason. */
  skips?: Partial<Record<BackendContractTest, string>>;
}

function cgroupDir(server: ServerProcess, controller: string, sandboxId?: string): string {
  return sandboxCgroupDir(controller, server.dataDir, sandboxId);
}

function cgroupProcs(server: ServerProcess, sandboxId: string): number[] {
  try {
    return readFileSync(path.join(cgroupDir(server, 'pids', sandboxId), 'cgroup.procs'), 'utf8').trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Every file or directory named after the sandbox under the places a backend keeps sandbox state. */
function leftoverPaths(server: ServerProcess, sandboxId: string): string[] {
  const found: string[] = [];
  const walk = (dir: string, depth: number): void => {
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of entries) {
      const full = path.join(dir, name);
      if (name.includes(sandboxId)) found.push(full);
      else if (depth > 0 && !name.endsWith('.db')) walk(full, depth - 1);
    }
  };
  walk(server.dataDir, 3);
  walk('/run/hearth', 3);
  return found;
}

async function mustFail(sbx: Sandbox, command: string, user: 'root' | 'user'): Promise<string> {
  try {
    const result = await sbx.commands.run(command, { user });
    return assert.fail(`"${command}" succeeded as ${user}: ${result.stdout}${result.stderr}`);
  } catch (error) {
    if (!(error instanceof CommandExitError)) throw error;
    return error.stdout + error.stderr;
  }
}

const api = (server: ServerProcess, method: string, route: string, body?: unknown): Promise<ApiResponse> => apiRequest(server, method, route, body);

export function runBackendContract(options: BackendContractOptions): void {
  const { kind, unavailable, skips = {} } = options;
  describe(`backend contract: ${kind}`, () => {
    let server: ServerProcess;
    const serverArgs = ['--backend', kind, '--pool', 'base=0'];
    before(async () => {
      if (unavailable) return;
      server = await startServer({ args: serverArgs, env: { HEARTH_NETWORK: 'none' } });
      useServerEnv(server);
    });
    after(async () => {
      if (!unavailable) await server.destroy();
    });

    const contractTest = (name: BackendContractTest, body: () => Promise<void>): void => {
      const skip = unavailable ?? skips[name];
      test(name, skip ? { skip } : {}, body);
    };

    contractTest('starts a sandbox whose supervisor answers as PID 1 and runs commands as the unprivileged user', async () => {
      await withSandbox(async (sbx) => {
        const result = await sbx.commands.run('id -u; hostname; cat /proc/1/cmdline | tr "\\0" " "');
        const [uid, hostname, pid1] = result.stdout.split('\n');
        assert.equal(uid, '1000');
        assert.equal(hostname, sbx.sandboxId);
        assert.match(pid1 ?? '', /hearth-supervisor/);
        assert.equal((await sbx.commands.run('id -u', { user: 'root' })).stdout, '0\n');
        const failed = await sbx.commands.run('echo out; echo err >&2; exit 3').catch((error: unknown) => error);
        assert.ok(failed instanceof CommandExitError);
        assert.equal(failed.exitCode, 3);
        assert.equal(failed.stdout, 'out\n');
        assert.equal(failed.stderr, 'err\n');
        const info = await sbx.getInfo();
        assert.equal(info.sandboxId, sbx.sandboxId);
      });
    });

    contractTest('writes and reads files through the API, visible to commands', async () => {
      await withSandbox(async (sbx) => {
        await sbx.files.write('/home/user/notes/a.txt', 'hello from the host');
        assert.equal(await sbx.files.read('/home/user/notes/a.txt'), 'hello from the host');
        assert.equal((await sbx.commands.run('cat /home/user/notes/a.txt; echo; stat -c %U /home/user/notes/a.txt')).stdout, 'hello from the host\nuser\n');
        await assert.rejects(sbx.files.write('/etc/passwd', 'owned'), 'the API acts as the requesting user, who cannot overwrite system files');
        await sbx.commands.run('echo made-inside > /home/user/notes/b.txt');
        assert.equal(await sbx.files.read('/home/user/notes/b.txt'), 'made-inside\n');
        assert.deepEqual((await sbx.files.list('/home/user/notes')).map((entry) => entry.name).sort(), ['a.txt', 'b.txt']);
        await sbx.files.remove('/home/user/notes/a.txt');
        assert.equal(await sbx.files.exists('/home/user/notes/a.txt'), false);
        assert.equal(await sbx.files.exists('/etc/debian_version'), true, 'the template layer is visible');
      });
    });

    contractTest('enforces and shows the memory, pids and CPU limits', async () => {
      await withSandbox(async (sbx) => {
        const read = (controller: string, file: string): string => readFileSync(path.join(cgroupDir(server, controller, sbx.sandboxId), file), 'utf8').trim();
        assert.equal(read('memory', 'memory.limit_in_bytes'), String(512 * 1024 * 1024));
        assert.equal(read('pids', 'pids.max'), '512');
        assert.equal(read('cpu', 'cpu.cfs_quota_us'), '200000');
        const info = await sbx.getInfo();
        assert.equal(info.memoryMB, 512);
        assert.equal(info.cpuCount, 2);
      });
    });

    contractTest('a memory hog fails inside the sandbox, which keeps working', async () => {
      await withSandbox(async (sbx) => {
        const hog = await sbx.commands
          .run('python3 -c "b = bytearray(2 * 1024 * 1024 * 1024); print(len(b))"', { timeoutMs: 60_000 })
          .then((r) => r.exitCode, (error: { exitCode?: number }) => error.exitCode);
        assert.notEqual(hog, 0, 'a 2 GiB allocation fails inside a 512 MiB sandbox');
        assert.equal((await fetch(`${server.url}/health`)).status, 200, 'the server survives');
        assert.equal((await sbx.commands.run('echo alive')).stdout, 'alive\n', 'the sandbox survives');
      });
    });

    contractTest('a fork bomb fails inside the sandbox, which keeps working', async () => {
      await withSandbox(async (sbx) => {
        const forks = await sbx.commands
          .run('for i in $(seq 1 2000); do sleep 30 & done; wait', { timeoutMs: 60_000 })
          .then((r) => r.stderr, (error: { stderr?: string }) => error.stderr ?? '');
        assert.match(forks, /fork|Resource temporarily unavailable|retry/i);
        await sbx.commands.run('pkill sleep || true', { user: 'root' }).catch(() => undefined);
        assert.equal((await fetch(`${server.url}/health`)).status, 200, 'the server survives');
        assert.equal((await sbx.commands.run('echo alive')).stdout, 'alive\n', 'the sandbox survives');
      });
    });

    contractTest('two sandboxes are isolated from each other', async () => {
      await withSandbox(async (a) => {
        await withSandbox(async (b) => {
          await a.commands.run('sleep 300', { background: true });
          await a.files.write('/home/user/only-in-a.txt', 'a');
          assert.doesNotMatch((await b.commands.run('ps -eo args')).stdout, /sleep 300/);
          assert.equal(await b.files.exists('/home/user/only-in-a.txt'), false);
          assert.equal((await b.commands.run('hostname')).stdout.trim(), b.sandboxId);
          await b.commands.run('python3 -m http.server 9000 --bind 127.0.0.1', { background: true });
          await b.commands.run('for i in $(seq 1 100); do curl -sf http://127.0.0.1:9000/ > /dev/null && break; sleep 0.1; done');
          await mustFail(a, 'curl -s --max-time 2 http://127.0.0.1:9000/', 'user');
          const links = (await a.commands.run('ip -o link')).stdout.trim().split('\n');
          assert.equal(links.length, 1, `only loopback: ${links.join(' | ')}`);
        });
      });
    });

    contractTest('tool files are mounted read-only at /run/hearth/tools and can be replaced', async () => {
      const calc = { name: 'calculator', description: 'Evaluate arithmetic', inputSchema: { type: 'object' } };
      const created = await api(server, 'POST', '/sandboxes', { templateID: 'base', tools: [calc] });
      assert.equal(created.status, 201);
      const sbx = await Sandbox.connect(created.json['sandboxID'] as string);
      try {
        assert.equal((await sbx.commands.run('ls /run/hearth/tools')).stdout, 'calculator.json\nindex.json\n');
        for (const attempt of ['echo x > /run/hearth/tools/evil.json', 'rm /run/hearth/tools/calculator.json', 'mount -o remount,rw /run/hearth/tools']) {
          await mustFail(sbx, attempt, 'root');
        }
        await assert.rejects(sbx.files.write('/run/hearth/tools/evil.json', '{}', { user: 'root' }));
        assert.equal((await api(server, 'PUT', `/sandboxes/${sbx.sandboxId}/tools`, { tools: [{ ...calc, name: 'adder' }] })).status, 200);
        assert.equal((await sbx.commands.run('ls /run/hearth/tools')).stdout, 'adder.json\nindex.json\n');
      } finally {
        await sbx.kill();
      }
    });

    contractTest('a pooled sandbox is frozen until claimed and works once thawed', async () => {
      assert.equal((await api(server, 'PUT', '/admin/pools/base', { target: 1 })).status, 200);
      const frozenIds = (): string[] =>
        readdirSync(cgroupDir(server, 'freezer'), { withFileTypes: true })
          .filter((entry) => entry.isDirectory() && readFileSync(path.join(cgroupDir(server, 'freezer', entry.name), 'freezer.state'), 'utf8').trim() === 'FROZEN')
          .map((entry) => entry.name);
      try {
        await eventually(() => frozenIds().length === 1, 60_000, 'one frozen pooled sandbox');
        const [pooledId] = frozenIds();
        await withSandbox(async (sbx) => {
          assert.equal(sbx.sandboxId, pooledId, 'the create claimed the pooled sandbox');
          assert.equal(readFileSync(path.join(cgroupDir(server, 'freezer', sbx.sandboxId), 'freezer.state'), 'utf8').trim(), 'THAWED');
          assert.equal((await sbx.commands.run('echo thawed')).stdout, 'thawed\n');
        });
      } finally {
        await api(server, 'PUT', '/admin/pools/base', { target: 0 });
      }
      await eventually(() => frozenIds().length === 0, 30_000, 'the pool to drain');
    });

    contractTest('stop kills every process and frees cgroups, mounts and directories', async () => {
      const sbx = await Sandbox.create({ timeoutMs: 120_000 });
      await sbx.commands.run('sleep 300 & sleep 300 & echo started');
      const procs = cgroupProcs(server, sbx.sandboxId);
      assert.ok(procs.length >= 1, 'the sandbox has host processes');
      assert.ok(leftoverPaths(server, sbx.sandboxId).length > 0, 'the sandbox has files on the host while it runs');
      await sbx.kill();
      assert.equal(existsSync(cgroupDir(server, 'memory', sbx.sandboxId)), false, 'cgroups are gone when kill returns');
      await eventually(() => procs.every((pid) => !existsSync(`/proc/${pid}`)), 5_000, `sandbox pids ${procs.join(', ')} to be gone`);
      assert.equal(readFileSync('/proc/self/mountinfo', 'utf8').includes(sbx.sandboxId), false, 'no mount is left');
      await eventually(() => leftoverPaths(server, sbx.sandboxId).length === 0, 5_000, 'the sandbox files to be removed');
      await assert.rejects(Sandbox.getInfo(sbx.sandboxId), /not found/i);
    });

    contractTest('after a daemon restart a live sandbox is alive again, a dead one and an orphan are reaped', async () => {
      const keeper = await Sandbox.create({ timeoutMs: 300_000 });
      const victim = await Sandbox.create({ timeoutMs: 300_000 });
      const orphan = await Sandbox.create({ timeoutMs: 300_000 });
      await keeper.files.write('/home/user/state.txt', 'before restart');
      const { dataDir, url } = server;
      await server.stop();
      for (const pid of cgroupProcs(server, victim.sandboxId)) process.kill(pid, 'SIGKILL');
      // The orphan: a sandbox the server no longer knows (as after a crash between kill and cleanup).
      const database = new Database(path.join(dataDir, 'hearth.db'));
      database.prepare("UPDATE sandboxes SET state = 'killed', desired_state = 'killed' WHERE id = ?").run(orphan.sandboxId);
      database.close();
      server = await startServer({ dataDir, port: Number(new URL(url).port), args: serverArgs, env: { HEARTH_NETWORK: 'none' } });
      assert.equal(await keeper.files.read('/home/user/state.txt'), 'before restart');
      assert.equal((await keeper.commands.run('echo alive')).stdout, 'alive\n');
      await assert.rejects(Sandbox.getInfo(victim.sandboxId), /not found/i);
      await assert.rejects(Sandbox.getInfo(orphan.sandboxId), /not found/i);
      for (const gone of [victim.sandboxId, orphan.sandboxId]) {
        assert.equal(existsSync(cgroupDir(server, 'memory', gone)), false, `${gone}'s cgroups are freed`);
        await eventually(() => leftoverPaths(server, gone).length === 0, 5_000, `${gone}'s files to be removed`);
      }
      await keeper.kill();
    });

    /** A background process whose pid and start time (field 22 of its stat) name it exactly, and a file. */
    const startMarkedProcess = async (sbx: Sandbox): Promise<string> => {
      await sbx.commands.run('sleep 100000 >/dev/null 2>&1 & echo $! > /home/user/marker-pid; echo kept > /home/user/marker-file', { timeoutMs: 120_000 });
      return readMark(sbx);
    };
    const readMark = async (sbx: Sandbox): Promise<string> =>
      (await sbx.commands.run('pid=$(cat /home/user/marker-pid); echo "$pid $(cut -d" " -f22 /proc/$pid/stat) $(cat /home/user/marker-file)"', { timeoutMs: 120_000 })).stdout;

    contractTest('pause frees the processes and resume brings back the same ones with their files', async () => {
      const sbx = await Sandbox.create({ timeoutMs: 600_000, requestTimeoutMs: 600_000 });
      try {
        const mark = await startMarkedProcess(sbx);
        assert.match(mark, /^\d+ \d+ kept\n$/);
        assert.equal(await sbx.pause(), true);
        assert.equal((await Sandbox.getInfo(sbx.sandboxId)).state, 'paused');
        await eventually(() => cgroupProcs(server, sbx.sandboxId).length === 0, 15_000, 'no host process left while paused');
        const resumed = await Sandbox.connect(sbx.sandboxId, { timeoutMs: 600_000 });
        assert.equal(await readMark(resumed), mark, 'the same process (pid and start time) and the file');
        assert.equal((await resumed.commands.run('echo alive', { timeoutMs: 120_000 })).stdout, 'alive\n');
      } finally {
        await Sandbox.kill(sbx.sandboxId).catch(() => undefined);
      }
    });

    contractTest('forks continue from the source and are independent of it and of each other', async () => {
      const source = await Sandbox.create({ timeoutMs: 600_000, requestTimeoutMs: 600_000 });
      const forks: Sandbox[] = [];
      try {
        const mark = await startMarkedProcess(source);
        for (const result of await source.fork({ count: 2, timeoutMs: 600_000, requestTimeoutMs: 600_000 })) {
          if (result instanceof Error) throw result;
          forks.push(result);
        }
        const [forkA, forkB] = forks;
        assert.ok(forkA && forkB);
        for (const fork of forks) assert.equal(await readMark(fork), mark, 'the fork continues the source’s process and has its files');
        await forkA.files.write('/home/user/marker-file', 'fork A\n');
        await source.files.write('/home/user/marker-file', 'source\n');
        assert.equal(await forkB.files.read('/home/user/marker-file'), 'kept\n');
        assert.equal(await forkA.files.read('/home/user/marker-file'), 'fork A\n');
        assert.equal(await source.files.read('/home/user/marker-file'), 'source\n');
      } finally {
        for (const sandbox of [source, ...forks]) await sandbox.kill().catch(() => undefined);
      }
    });
  });
}
