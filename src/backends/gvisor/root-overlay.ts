// The sandbox's root filesystem for gVisor: an overlay mounted on the host (template layers below, a
// per-sandbox upper directory above) whose merged directory runsc serves as the container root.
import { spawn } from 'node:child_process';
import { InternalError } from '../../errors/hearth-error.js';

function run(binary: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', (error) => resolve({ code: -1, stderr: error.message }));
    child.once('close', (code) => resolve({ code, stderr }));
  });
}

/** `lowers`: topmost first. Paths may not contain ',', ':' or '\\' (overlay option syntax). */
export async function mountRootOverlay(lowers: string[], upper: string, work: string, merged: string): Promise<void> {
  const all = [...lowers, upper, work, merged];
  const bad = all.find((dir) => /[,:\\]/.test(dir));
  if (bad) throw new InternalError(`overlay path ${bad}: ',', ':' and '\\' are not allowed`);
  const options = `lowerdir=${lowers.join(':')},upperdir=${upper},workdir=${work}`;
  const { code, stderr } = await run('mount', ['-t', 'overlay', 'overlay', '-o', options, merged]);
  if (code !== 0) throw new InternalError(`mount overlay on ${merged} failed: ${stderr.trim() || `exit ${code}`}`);
}

/** Detaches the overlay; true when nothing is mounted there any more. */
export async function unmountRootOverlay(merged: string): Promise<boolean> {
  const { code, stderr } = await run('umount', ['--lazy', merged]);
  return code === 0 || /not mounted|no mount point|No such file/i.test(stderr);
}
