// Starting a QEMU process inside the sandbox's cgroups (it joins them before exec, so guest RAM is charged
// from the first page), detached so it outlives a daemon restart, and waiting for its sockets. A guest with a
// network device starts in a private network namespace (`unshare --net`, same pid), where QEMU creates its tap.
import { acceptsConnections } from '../../supervisor/socket-probe.js';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { InternalError } from '../../errors/hearth-error.js';

const JOIN_AND_EXEC = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 126; shift; done; shift; exec "$@"';

export function spawnQemu(qemuBinary: string, args: readonly string[], procsFiles: readonly string[], logPath: string, privateNetwork = false): Promise<number> {
  const command = privateNetwork ? ['unshare', '--net', '--', qemuBinary, ...args] : [qemuBinary, ...args];
  return fs.open(logPath, 'a').then(async (log) => {
    try {
      const child = spawn('sh', ['-c', JOIN_AND_EXEC, 'sh', ...procsFiles, '--', ...command], { detached: true, stdio: ['ignore', log.fd, log.fd] });
      const pid = child.pid;
      child.unref();
      if (pid === undefined) throw new InternalError(`cannot start ${qemuBinary}`);
      return pid;
    } finally {
      await log.close();
    }
  });
}

/** Resolves once something accepts connections on `socketPath`, or rejects when `alive` turns false or time runs out. */
export async function waitForSocket(socketPath: string, timeoutMs: number, alive: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt += 1) {
    const connected = await acceptsConnections(socketPath);
    if (connected) return;
    if (attempt % 20 === 19 && !(await alive())) throw new InternalError(`QEMU exited before ${what} was ready`);
    if (Date.now() > deadline) throw new InternalError(`${what} was not ready within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}
