// Runs a host tool to completion, capturing its stderr for the error message.
import { spawn } from 'node:child_process';
import { InternalError } from '../../errors/hearth-error.js';

export function runTool(binary: string, args: readonly string[], what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', (error) => reject(new InternalError(`${what}: cannot run ${binary}: ${error.message}`, { cause: error })));
    child.once('close', (code) => {
      if (code === 0) resolve(stdout);
      else reject(new InternalError(`${what} failed (${binary} exit ${code}): ${stderr.trim().split('\n').slice(-2).join(' ') || 'no output'}`));
    });
  });
}
