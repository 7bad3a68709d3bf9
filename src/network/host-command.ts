// Runs a host tool (ip, nft) to completion, feeding it a script on stdin; fails with its stderr.
import { spawn } from 'node:child_process';
import { BackendMisconfiguredError, InternalError } from '../errors/hearth-error.js';

export function runHostCommand(command: string, args: readonly string[], stdin = ''): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (error) => reject(new BackendMisconfiguredError(`cannot run ${command}: ${error.message}`, { cause: error })));
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(stdout).toString('utf8'));
      else reject(new InternalError(`${command} ${args.join(' ')} failed (exit ${code}): ${Buffer.concat(stderr).toString('utf8').trim()}`));
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin);
  });
}
