// Where egress decisions are written: the store's per-sandbox audit log, and the server log for denials.
import type { Logger } from '../core/logger.js';
import type { EgressEventRecord, Store } from '../store/store.js';

export type EgressAudit = (event: Omit<EgressEventRecord, 'atMs'>) => void;

export function storeEgressAudit(store: Store, log: Logger): EgressAudit {
  return (event) => {
    if (event.action === 'deny') {
      log.info(`egress denied for ${event.sandboxId}: ${event.protocol} ${event.host ?? ''} ${event.address ?? ''}${event.port ? `:${event.port}` : ''} (${event.reason})`);
    }
    void store.appendEgressEvent({ atMs: Date.now(), ...event }).catch((error: unknown) => log.warn(`egress audit write failed: ${(error as Error).message}`));
  };
}
