// Checkpointing a running sandbox (fork, persistent snapshots): the checkpoint drops the supervisor's
// connection, so the sandbox is taken out of service meanwhile and reconnected afterwards, whether or not the
// checkpoint succeeded. The sandbox keeps running.
import type { Backend, SandboxSnapshot } from '../backends/backend.js';
import { UnsupportedError } from '../errors/hearth-error.js';
import { SupervisorClient } from '../supervisor/supervisor-client.js';
import type { LiveSandbox, SandboxService } from './sandbox-service.js';

const SUPERVISOR_CONNECT_TIMEOUT_MS = 5000;

/** Checkpoints the live sandbox into `dir` (which the caller owns); returns the snapshot and the sandbox, back in service. */
export async function checkpointLiveSandbox(sandboxes: SandboxService, backend: Backend, sandboxId: string, dir: string, operation: string): Promise<{ snapshot: SandboxSnapshot; source: LiveSandbox }> {
  if (!backend.snapshot) throw new UnsupportedError(operation, 'this server has no backend that can checkpoint memory');
  const source = sandboxes.getLive(sandboxId);
  sandboxes.detachLive(sandboxId);
  source.client.close();
  try {
    return { snapshot: await backend.snapshot(source.record.runtime, dir), source };
  } finally {
    source.client = await SupervisorClient.connect({ socketPath: backend.endpoint(source.record.runtime).socketPath, connectTimeoutMs: SUPERVISOR_CONNECT_TIMEOUT_MS });
    sandboxes.attachLive(source);
  }
}
