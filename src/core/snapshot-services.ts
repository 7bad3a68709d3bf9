// Wires pause/resume, fork, persistent snapshots and snapshot-started templates into the sandbox service (its SnapshotHooks).
import path from 'node:path';
import type { Backend } from '../backends/backend.js';
import type { SandboxNetworkManager } from '../network/sandbox-network-manager.js';
import type { Store } from '../store/store.js';
import type { Logger } from './logger.js';
import { SandboxForkService } from './sandbox-fork-service.js';
import { SandboxPauseService } from './sandbox-pause-service.js';
import { SavedSnapshotService } from './saved-snapshot-service.js';
import type { SandboxService } from './sandbox-service.js';
import { TemplateSnapshots } from './template-snapshots.js';

export interface SnapshotServices {
  pauses: SandboxPauseService;
  forks: SandboxForkService;
  templateSnapshots: TemplateSnapshots;
  saved: SavedSnapshotService;
}

/** Call before `sandboxes.recover()`, so paused sandboxes are kept across the restart. */
export function installSnapshotServices(store: Store, backend: Backend, sandboxes: SandboxService, network: SandboxNetworkManager | undefined, dataDir: string, log: Logger): SnapshotServices {
  const pauses = new SandboxPauseService(store, backend, sandboxes, network, log);
  const forks = new SandboxForkService(store, backend, sandboxes, pauses, path.join(dataDir, 'snapshots', 'forks'), log);
  const templateSnapshots = new TemplateSnapshots(backend, path.join(dataDir, 'snapshots', 'templates'), log);
  const saved = new SavedSnapshotService(store, backend, sandboxes, pauses, path.join(dataDir, 'snapshots', 'saved'), log);
  sandboxes.snapshotHooks = {
    templateSnapshot: (template, backendKind) => templateSnapshots.find(template, backendKind),
    afterColdStart: (template, backendKind, runtime) => templateSnapshots.takeIfMissing(template, backendKind, runtime),
    startFromSavedSnapshot: (command) => saved.startSandbox(command),
    pauseOnTimeout: async (sandboxId) => {
      await pauses.pause(sandboxId);
    },
  };
  return { pauses, forks, templateSnapshots, saved };
}
