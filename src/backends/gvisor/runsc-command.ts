// Runs one `runsc` command with the flags every invocation for a sandbox must share.
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { InternalError } from '../../errors/hearth-error.js';
import type { RunscPlatform } from './platform-choice.js';

export interface RunscOptions {
  binary: string;
  /** runsc's state directory (one per Hearth data directory). */
  stateDir: string;
}

export interface RunscOutcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Checkpoint images are written uncompressed and without committed zero pages: compressing costs more time at
 * pause and resume than the disk it saves.
 */
export const CHECKPOINT_FLAGS = ['--compression=none', '--exclude-committed-zero-pages'];

/**
 * `--overlay2=none`: the root is already an overlay Hearth mounted on the host, so files written in the
 * sandbox land in its upper directory, not in sandbox memory. `--host-uds=create`: the supervisor's
 * listening socket inside a bind-mounted directory becomes a host socket the daemon connects to.
 */
export function globalFlags(options: RunscOptions, platform: RunscPlatform, network: 'none' | 'sandbox' | 'host'): string[] {
  return [
    `--root=${options.stateDir}`, `--platform=${platform}`, '--overlay2=none', '--host-uds=create', `--network=${network}`,
    // a checkpoint (pause, fork) resets open TCP connections (and forgets TIME_WAIT ones) instead of refusing to save
    ...(network === 'sandbox' ? ['--net-disconnect-ok'] : []),
  ];
}

/**
 * runsc 20240729 refuses `--network=sandbox` when /proc/sys/net/core/rmem_default exists in the namespace it
 * joins, taking that as the sign of the host's root network namespace. Since Linux 6.x that sysctl exists in
 * every network namespace, so every bridged sandbox was refused. The commands that set up a sandbox's network
 * (run, restore) therefore run in a private mount namespace (host mounts still propagate in) where an empty
 * tmpfs hides /proc/sys/net; runsc reads nothing else there for its own netstack.
 */
function hideHostNetSysctls(binary: string, args: string[]): [string, string[]] {
  const script = 'mount -t tmpfs -o size=4k,mode=0555 hearth-netsysctl-mask /proc/sys/net && exec "$0" "$@"';
  return ['unshare', ['--mount', '--propagation', 'slave', '--', 'sh', '-c', script, binary, ...args]];
}

/**
 * Runs runsc and collects its output. `logFile`: stdout and stderr go to that file instead of pipes,
 * for commands (run) whose sandbox and gofer children inherit them and outlive the command.
 * `joinsNetwork`: the command sets up a bridged sandbox network (run or restore with `--network=sandbox`).
 */
export async function runsc(options: RunscOptions, args: string[], timeoutMs: number, logFile?: string, joinsNetwork = false): Promise<RunscOutcome> {
  const log = logFile ? await fs.open(logFile, 'a') : undefined;
  const [command, commandArgs] = joinsNetwork ? hideHostNetSysctls(options.binary, args) : [options.binary, args];
  try {
    return await new Promise<RunscOutcome>((resolve, reject) => {
      const child = spawn(command, commandArgs, { stdio: ['ignore', log ? log.fd : 'pipe', log ? log.fd : 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new InternalError(`runsc ${args.find((arg) => !arg.startsWith('-')) ?? ''} did not finish within ${timeoutMs} ms`));
      }, timeoutMs);
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(new InternalError(`cannot run ${options.binary}: ${error.message}`, { cause: error }));
      });
      child.once('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  } finally {
    await log?.close();
  }
}

/** The last meaningful line of a runsc log or stderr, for error messages. */
export function lastLine(text: string): string {
  return text.trim().split('\n').filter(Boolean).pop() ?? 'no output';
}
