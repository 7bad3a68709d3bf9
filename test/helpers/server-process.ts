// Starts a real `hearth serve` in a child process on a free loopback port with its own data directory.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { removeFromAllHierarchies } from '../../src/backends/namespaces/cgroup-v1.js';
import { gvisorBundlesDir } from '../../src/backends/server-backends.js';
import { sandboxCgroupDir, serverCgroupParent, testTempDir } from './test-run.js';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const TEST_API_KEY = 'hearth_test_key_0123456789abcdef';

/** Sandboxes of the server with this data dir whose cgroup is still there, in any hierarchy runsc or Hearth writes to. */
function leftoverSandboxes(dataDir: string): string[] {
  const leftovers = new Set<string>();
  for (const hierarchy of readdirSync('/sys/fs/cgroup').filter((name) => name !== 'unified')) {
    const dir = sandboxCgroupDir(hierarchy, dataDir);
    if (!existsSync(dir)) continue;
    for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) leftovers.add(`${entry.name} (${hierarchy})`);
  }
  return [...leftovers];
}

/** The server leaves its sandboxes filesystem (a loop-mounted image) mounted for the next start; a test's last stop unmounts it. */
export function unmountSandboxDisk(dataDir: string): void {
  const sandboxesDir = path.join(dataDir, 'sandboxes');
  const mounted = (): boolean => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((line) => line.split(' ')[4] === sandboxesDir);
  while (mounted()) {
    if (spawnSync('umount', [sandboxesDir]).status !== 0 && spawnSync('umount', ['-l', sandboxesDir]).status !== 0) throw new Error(`cannot unmount ${sandboxesDir}`);
  }
}

/**
 * Each test data dir gets its own bridge and /24 (derived from the dir's name, so a restarted server finds its
 * sandboxes' network again), so servers of different tests never share addresses or firewall tables.
 */
export function networkEnv(dataDir: string): Record<string, string> {
  const digest = createHash('sha256').update(path.basename(dataDir)).digest();
  const bridge = `ht${digest.toString('hex').slice(0, 6)}`;
  const second = 100 + ((digest[4] ?? 0) % 100);
  const third = digest[5] ?? 0;
  return { HEARTH_BRIDGE: bridge, HEARTH_SANDBOX_SUBNET: `10.${second}.${third}.0/24` };
}

export interface ServerProcess {
  url: string;
  apiKey: string;
  dataDir: string;
  output: () => string;
  /** Stops the server (SIGTERM) but leaves sandboxes running, as a daemon restart would. */
  stop(): Promise<void>;
  /** Stops the server, kills its sandboxes and removes its data directory. */
  destroy(): Promise<void>;
}

export async function startServer(options: { dataDir?: string; port?: number; env?: Record<string, string>; args?: string[] } = {}): Promise<ServerProcess> {
  const dataDir = options.dataDir ?? testTempDir();
  // Each test server gets its own cgroup parent, so a leaked sandbox is found and named by destroy().
  const cgroupParent = serverCgroupParent(dataDir);
  const child: ChildProcess = spawn(
    process.execPath,
    [path.join(PROJECT_ROOT, 'bin', 'hearth.js'), 'serve', '--port', String(options.port ?? 0), '--data-dir', dataDir, '--quiet', ...(options.args ?? [])],
    { env: { ...process.env, HEARTH_API_KEY: TEST_API_KEY, HEARTH_CGROUP_PARENT: cgroupParent, ...networkEnv(dataDir), ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`hearth serve did not start within 120 s:\n${output}`)), 120_000);
    const check = (): void => {
      const match = /hearth listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`hearth serve exited with ${code}:\n${output}`));
    });
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
  };
  return {
    url,
    apiKey: TEST_API_KEY,
    dataDir,
    output: () => output,
    stop,
    destroy: async () => {
      await stop();
      // A last server run with --kill-on-exit reaps whatever the previous one left running.
      const reaper = spawn(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'hearth.js'), 'serve', '--port', '0', '--data-dir', dataDir, '--quiet', '--kill-on-exit', '--pool', 'base=0'], {
        env: { ...process.env, HEARTH_API_KEY: TEST_API_KEY, HEARTH_CGROUP_PARENT: cgroupParent, ...networkEnv(dataDir), ...options.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let reaperOutput = '';
      reaper.stderr?.on('data', (chunk: Buffer) => (reaperOutput += chunk.toString()));
      await new Promise<void>((resolve) => {
        reaper.stdout?.on('data', (chunk: Buffer) => {
          reaperOutput += chunk.toString();
          if (chunk.toString().includes('hearth listening on')) reaper.kill('SIGTERM');
        });
        reaper.once('exit', (code, signal) => {
          reaperOutput += `\n(reaper exited with ${signal ?? code})`;
          resolve();
        });
      });
      const leaked = leftoverSandboxes(dataDir);
      if (leaked.length > 0) {
        const database = path.join(dataDir, 'hearth.db');
        process.stderr.write(`leaked sandboxes ${leaked.join(', ')}; data dir kept at ${dataDir} (${database})\nserver output:\n${output}\nreaper output:\n${reaperOutput}\n`);
        throw new Error(`server left ${leaked.length} sandbox(es) running: ${leaked.join(', ')}`);
      }
      const bridge = networkEnv(dataDir)['HEARTH_BRIDGE'] ?? '';
      const namespaces = existsSync('/run/netns') ? readdirSync('/run/netns').filter((name) => name.startsWith(`${bridge}-`)) : [];
      if (existsSync(`/sys/class/net/${bridge}`) || namespaces.length > 0) {
        process.stderr.write(`server output:\n${output}\nreaper output:\n${reaperOutput}\n`);
        throw new Error(`server left its sandbox bridge ${bridge} or network namespaces behind: ${namespaces.join(', ')}`);
      }
      if (existsSync(gvisorBundlesDir(dataDir))) {
        throw new Error(`server left its gVisor bundle directory ${gvisorBundlesDir(dataDir)} behind: ${readdirSync(gvisorBundlesDir(dataDir)).join(', ')}`);
      }
      await removeFromAllHierarchies(cgroupParent);
      unmountSandboxDisk(dataDir);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Points the e2b SDK at a server the way users do: through its environment variables. */
/** Runs the `hearth` CLI against a server and returns its stdout. */
export async function runCli(server: ServerProcess, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'hearth.js'), ...args], {
    env: { ...process.env, HEARTH_URL: server.url, HEARTH_API_KEY: server.apiKey },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number>((resolve) => child.once('exit', (exitCode) => resolve(exitCode ?? 1)));
  return { code, stdout, stderr };
}

export function useServerEnv(server: ServerProcess): void {
  process.env['E2B_API_URL'] = server.url;
  process.env['E2B_SANDBOX_URL'] = server.url;
  process.env['E2B_API_KEY'] = server.apiKey;
}
