// Pause and resume with memory (E2B's sbx.pause(), Sandbox.connect()/resume of a paused sandbox, auto-pause on
// timeout): the backend checkpoints the sandbox and frees its processes; files, the checkpoint image and the
// network slot stay until it is resumed or killed, across daemon restarts too. One operation per sandbox at a time.
import type { Backend } from '../backends/backend.js';
import { ConflictError, SandboxNotFoundError, toHearthError } from '../errors/hearth-error.js';
import type { SandboxNetworkManager } from '../network/sandbox-network-manager.js';
import type { SandboxRecord, Store } from '../store/store.js';
import { SupervisorClient } from '../supervisor/supervisor-client.js';
import type { Logger } from './logger.js';
import type { LiveSandbox, ProcessConfigRecord, SandboxService } from './sandbox-service.js';
import { assertTransition } from './sandbox-state-machine.js';

const SUPERVISOR_CONNECT_TIMEOUT_MS = 5000;

export class SandboxPauseService {
  private readonly inFlight = new Map<string, Promise<unknown>>();
  /** What each process of a paused sandbox was asked to run, so Process.List still knows after a resume. */
  private readonly processConfigs = new Map<string, Map<number, ProcessConfigRecord>>();

  constructor(
    private readonly store: Store,
    private readonly backend: Backend,
    private readonly sandboxes: SandboxService,
    private readonly network: SandboxNetworkManager | undefined,
    private readonly log: Logger,
  ) {}

  /** Runs `operation` after any other pause, resume or kill of the same sandbox. */
  private serialize<T>(sandboxId: string, operation: () => Promise<T>): Promise<T> {
    const previous = this.inFlight.get(sandboxId) ?? Promise.resolve();
    const next = previous.then(operation);
    // the chain's tail never rejects (the caller handles `next`)
    const settled: Promise<unknown> = next.then(
      () => undefined,
      () => undefined,
    ).finally(() => {
      if (this.inFlight.get(sandboxId) === settled) this.inFlight.delete(sandboxId);
    });
    this.inFlight.set(sandboxId, settled);
    return next;
  }

  /** Runs `operation` with no pause, resume or kill of the sandbox in between (the checkpoints of fork and snapshots). */
  exclusive<T>(sandboxId: string, operation: () => Promise<T>): Promise<T> {
    return this.serialize(sandboxId, operation);
  }

  /**
   * Like pausedRecord, after any pause or resume of the sandbox in progress has finished: while one runs, the
   * sandbox is neither live nor recorded as paused.
   */
  async settledPausedRecord(sandboxId: string): Promise<SandboxRecord | undefined> {
    await this.inFlight.get(sandboxId);
    return this.pausedRecord(sandboxId);
  }

  /** A paused sandbox's record, or undefined when the sandbox is not paused. */
  async pausedRecord(sandboxId: string): Promise<SandboxRecord | undefined> {
    const record = await this.store.getSandbox(sandboxId);
    return record?.state === 'paused' ? record : undefined;
  }

  /** Pauses a running sandbox; ConflictError when it is paused already (the SDK's `pause()` then returns false). */
  pause(sandboxId: string): Promise<SandboxRecord> {
    return this.serialize(sandboxId, async () => {
      if (await this.pausedRecord(sandboxId)) throw new ConflictError(`sandbox ${sandboxId} is already paused`);
      const live = this.sandboxes.getLive(sandboxId);
      assertTransition(sandboxId, live.record.state, 'paused');
      this.sandboxes.detachLive(sandboxId);
      live.client.close();
      let runtime: Record<string, unknown>;
      try {
        runtime = await this.backend.pause(live.record.runtime);
      } catch (error) {
        this.log.warn(`sandbox ${sandboxId}: pause failed: ${toHearthError(error).message}`);
        // the sandbox runs on: give it back its connection and its place
        live.client = await SupervisorClient.connect({ socketPath: this.backend.endpoint(live.record.runtime).socketPath, connectTimeoutMs: SUPERVISOR_CONNECT_TIMEOUT_MS });
        this.sandboxes.attachLive(live);
        throw error;
      }
      this.processConfigs.set(sandboxId, live.processConfigs);
      const record = await this.store.updateSandbox(sandboxId, { state: 'paused', desiredState: 'paused', runtime });
      if (!record) throw new SandboxNotFoundError(sandboxId);
      await this.store.appendEvent({ atMs: Date.now(), sandboxId, type: 'sandbox.paused', detail: {} });
      this.log.info(`sandbox ${sandboxId} paused`);
      return record;
    });
  }

  /** Resumes a paused sandbox with its processes; its timeout starts again from now. */
  resume(sandboxId: string, timeoutMs: number): Promise<SandboxRecord> {
    return this.serialize(sandboxId, async () => {
      const paused = await this.pausedRecord(sandboxId);
      if (!paused) {
        this.sandboxes.getLive(sandboxId);
        throw new ConflictError(`sandbox ${sandboxId} is running, not paused`);
      }
      this.sandboxes.checkTimeout(timeoutMs);
      assertTransition(sandboxId, paused.state, 'running');
      const runtime = await this.backend.resume(paused.runtime);
      let client: SupervisorClient;
      try {
        client = await SupervisorClient.connect({ socketPath: this.backend.endpoint(runtime).socketPath, connectTimeoutMs: SUPERVISOR_CONNECT_TIMEOUT_MS });
      } catch (error) {
        await this.backend.pause(runtime).catch(() => undefined);
        throw error;
      }
      const template = await this.store.getTemplate(paused.templateId);
      const record = await this.store.updateSandbox(sandboxId, { state: 'running', desiredState: 'running', runtime, endAtMs: Date.now() + timeoutMs });
      if (!record) throw new SandboxNotFoundError(sandboxId);
      const live: LiveSandbox = { record, client, processConfigs: this.processConfigs.get(sandboxId) ?? new Map(), templateWorkdir: template?.config.workdir };
      this.processConfigs.delete(sandboxId);
      this.network?.attach(record);
      this.sandboxes.attachLive(live);
      await this.store.appendEvent({ atMs: Date.now(), sandboxId, type: 'sandbox.resumed', detail: {} });
      return record;
    });
  }

  /** Kills a paused sandbox: its image, files and network slot are freed. */
  killPaused(sandboxId: string, reason: string): Promise<void> {
    return this.serialize(sandboxId, async () => {
      const paused = await this.pausedRecord(sandboxId);
      if (!paused) throw new SandboxNotFoundError(sandboxId);
      await this.store.updateSandbox(sandboxId, { state: 'stopping', desiredState: 'killed' });
      try {
        await this.backend.stop(paused.runtime);
        this.network?.release(paused);
      } finally {
        this.processConfigs.delete(sandboxId);
        await this.store.updateSandbox(sandboxId, { state: 'killed', endedAtMs: Date.now(), endReason: reason });
        await this.store.appendEvent({ atMs: Date.now(), sandboxId, type: 'sandbox.killed', detail: { reason } });
      }
    });
  }
}
