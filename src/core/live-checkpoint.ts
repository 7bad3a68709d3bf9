// Checkpointing a running sandbox (fork, persistent snapshots): the checkpoint drops the supervisor's
// connection, so the sandbox is taken out of service meanwhile and reconnected afterwards, whether or not the
// checkpoint succeeded. The sandbox keeps running. No pause, resume or kill of it runs meanwhile (an auto-pause
// on timeout during a fork would checkpoint a sandbox that is being checkpointed).
import type { Backend, SandboxSnapshot } from '../backends/backend.js';
import { UnsupportedError } from '../errors/hearth-error.js';
import { SupervisorClient } from '../supervisor/supervisor-client.js';
import type { SandboxPauseService } from './sandbox-pause-service.js';
import type { LiveSandbox, SandboxService } from './sandbox-service.js';

const SUPERVISOR_CONNECT_TIMEOUT_MS = 5000;

/** Checkpoints the live sandbox into `dir` (which the caller owns); returns the snapshot and the sandbox, back in service. */
export function checkpointLiveSandbox(
  services: { sandboxes: SandboxService; backend: Backend; pauses: Pick<SandboxPauseService, 'exclusive'> },
  sandboxId: string,
  dir: string,
  operation: string,
): Promise<{ snapshot: SandboxSnapshot; source: LiveSandbox }> {
  const { sandboxes, backend, pauses } = services;
  const snapshot = backend.snapshot?.bind(backend);
  if (!snapshot) return Promise.reject(new UnsupportedError(operation, 'this server has no backend that can checkpoint memory'));
  return pauses.exclusive(sandboxId, async () => {
    const source = sandboxes.getLive(sandboxId);
    sandboxes.detachLive(sandboxId);
    source.client.close();
    try {
      return { snapshot: await snapshot(source.record.runtime, dir), source };
    } finally {
      source.client = await SupervisorClient.connect({ socketPath: backend.endpoint(source.record.runtime).socketPath, connectTimeoutMs: SUPERVISOR_CONNECT_TIMEOUT_MS });
      sandboxes.attachLive(source);
    }
  });
}
