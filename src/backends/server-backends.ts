// The backends a Hearth server offers: namespaces (built by the caller with its disk options), gVisor and microVM, behind one router.
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { ServerConfig } from '../config/server-config.js';
import type { Backend } from './backend.js';
import type { BackendKind } from './backend-kinds.js';
import { BackendRouter } from './backend-router.js';
import { GvisorBackend } from './gvisor/gvisor-backend.js';
import { microvmBackend } from './microvm/microvm-options.js';

/** Bundles live outside the (private) data directory, one subdirectory per server, keyed by its data directory. */
const GVISOR_RUN_DIR = '/run/hearth/gvisor';

/** The server's own directory of gVisor bundles under /run, named by its data directory; gone once it holds none. */
export function gvisorBundlesDir(dataDir: string): string {
  return path.join(GVISOR_RUN_DIR, createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 12));
}

export function serverBackends(namespaces: Backend, config: ServerConfig, log?: (line: string) => void): BackendRouter {
  const gvisor = new GvisorBackend({
    sandboxesDir: path.join(config.dataDir, 'gvisor', 'sandboxes'),
    bundlesDir: gvisorBundlesDir(config.dataDir),
    stateDir: path.join(config.dataDir, 'gvisor', 'runsc-state'),
    supervisorBinary: config.supervisorBinary,
    cgroupParent: config.cgroupParent,
    platform: config.gvisorPlatform,
    platformCacheDir: GVISOR_RUN_DIR,
    launchTimeoutMs: 30_000,
    ...(log ? { log } : {}),
  });
  const microvm = microvmBackend(config);
  return new BackendRouter(new Map<BackendKind, Backend>([['namespaces', namespaces], ['gvisor', gvisor], ['microvm', microvm]]), config.backend);
}
