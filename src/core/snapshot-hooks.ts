// What the sandbox service asks of the pause and snapshot machinery, so its own file stays about lifecycle.
import type { SandboxRuntime, SandboxSnapshot } from '../backends/backend.js';
import type { SandboxRecord, TemplateRecord } from '../store/store.js';
import type { CreateSandboxCommand } from './commands.js';

export interface SnapshotHooks {
  /** The memory snapshot new sandboxes of `template` restore from, if it is a snapshot-started template that has one. */
  templateSnapshot(template: TemplateRecord, backendKind: string): Promise<SandboxSnapshot | undefined>;
  /**
   * Called once a sandbox started cold has run its template's start command and passed its ready check; true when it
   * took the template's snapshot from it (its supervisor connection was dropped for that: connect again).
   */
  afterColdStart(template: TemplateRecord, backendKind: string, runtime: SandboxRuntime): Promise<boolean>;
  /** Starts a sandbox from the persistent snapshot a create's `templateId` names (no template has it); undefined when none does. */
  startFromSavedSnapshot(command: CreateSandboxCommand): Promise<SandboxRecord | undefined>;
  /** Pauses a running sandbox whose timeout asked for it (E2B's autoPause / lifecycle.onTimeout: 'pause'). */
  pauseOnTimeout(sandboxId: string): Promise<void>;
}
