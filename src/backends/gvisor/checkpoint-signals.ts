// runsc cannot checkpoint a socket bound to a host path, and the supervisor's listening socket is one (it is
// how the host reaches it). Before a checkpoint the supervisor is told to close it (SIGUSR1, sent by the
// sentry so no sandbox process can fake it); after a restore, or once a fork's checkpoint is taken, to listen
// again (SIGUSR2).
import { acceptsConnections } from '../../supervisor/socket-probe.js';
import { promises as fs } from 'node:fs';
import { InternalError } from '../../errors/hearth-error.js';
import { runsc, type RunscOptions } from './runsc-command.js';

const SIGNAL_TIMEOUT_MS = 10_000;
const POLL_MS = 2;

/** To the supervisor (PID 1 in the sandbox), never to every process (SIGUSR1/2 terminate most programs). */
async function signal(options: RunscOptions, sandboxId: string, name: 'USR1' | 'USR2'): Promise<void> {
  const deadline = Date.now() + SIGNAL_TIMEOUT_MS;
  for (;;) {
    const outcome = await runsc(options, [`--root=${options.stateDir}`, 'kill', '--pid=1', sandboxId, name], SIGNAL_TIMEOUT_MS);
    if (outcome.code === 0) return;
    // right after `runsc restore --detach` the container may not take signals yet
    if (Date.now() > deadline) throw new InternalError(`runsc kill ${sandboxId} ${name} failed: ${outcome.stderr.trim()}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Closes the supervisor's listening socket and waits until its path is gone. */
export async function quiesceSupervisor(options: RunscOptions, sandboxId: string, socketPath: string, timeoutMs: number): Promise<void> {
  await signal(options, sandboxId, 'USR1');
  const deadline = Date.now() + timeoutMs;
  while (await fs.lstat(socketPath).then(() => true, () => false)) {
    if (Date.now() > deadline) throw new InternalError(`the supervisor of ${sandboxId} did not close ${socketPath} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** Tells the supervisor to listen again and waits until it accepts connections. */
export async function reopenSupervisor(options: RunscOptions, sandboxId: string, socketPath: string, timeoutMs: number): Promise<void> {
  await signal(options, sandboxId, 'USR2');
  await waitForListener(socketPath, timeoutMs);
}

/** Resolves once something accepts connections on `socketPath` (the supervisor binds and listens right after it starts). */
export async function waitForListener(socketPath: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const connected = await acceptsConnections(socketPath);
    if (connected) return;
    if (Date.now() > deadline) throw new InternalError(`the gVisor sandbox's supervisor did not listen on ${socketPath} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
