// Copies a sandbox's writable layer (owners, modes, xattrs such as overlay whiteouts and opaque markers kept;
// reflinks where the filesystem offers them) for a fork or a template snapshot.
import { spawn } from 'node:child_process';
import { InternalError } from '../../errors/hearth-error.js';

export function copyTree(source: string, destination: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('cp', ['-a', '--reflink=auto', '--', source, destination], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', (error) => reject(new InternalError(`cannot run cp: ${error.message}`, { cause: error })));
    child.once('close', (code) => (code === 0 ? resolve() : reject(new InternalError(`copying ${source} to ${destination} failed: ${stderr.trim() || `exit ${code}`}`))));
  });
}
