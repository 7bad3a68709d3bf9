// Sandbox lifecycle: create, look up, list, extend, kill, expire and re-attach after a restart.
import type { Backend, ResourceUsage, SandboxSnapshot, SandboxSpec, StartedSandbox } from '../backends/backend.js';
import type { ServerConfig } from '../config/server-config.js';
import {
  ConflictError,
  InvalidArgumentError,
  SandboxNotFoundError,
  SandboxUnavailableError,
  SecretNotFoundError,
  TemplateNotFoundError,
  toHearthError,
} from '../errors/hearth-error.js';
import type { SandboxNetworkManager } from '../network/sandbox-network-manager.js';
import { CA_BUNDLE_PATH } from '../network/network-layout.js';
import type { NetnsSlot } from '../network/netns-slots.js';
import { DEFAULT_NETWORK_SETTINGS, type EgressEventRecord, type SandboxNetworkSettings, type SandboxRecord, type SandboxState, type Store, type TemplateRecord } from '../store/store.js';
import { Fields } from '../supervisor/frame-codec.js';
import { FieldTag } from '../supervisor/protocol.js';
import { SupervisorClient } from '../supervisor/supervisor-client.js';
import { runToExit } from '../supervisor/run-to-exit.js';
import { startTemplateServices } from '../supervisor/template-services.js';
import type { ConnectSandboxCommand, CreateSandboxCommand, ListSandboxesCommand, SetTimeoutCommand } from './commands.js';
import { newAccessToken, newSandboxId } from './ids.js';
import { toolFiles, type ToolDefinition } from './tool-definitions.js';
import { LIVE_STATES, assertTransition } from './sandbox-state-machine.js';
import type { Logger } from './logger.js';
import { Metrics } from './metrics.js';
import { chosenBackend, poolServesBackend } from './backend-choice.js';
import { parseBackendKind } from '../backends/backend-kinds.js';
import { PoolManager, type PoolStats } from './pool-manager.js';
import { resolveLimits, sameLimits } from './sandbox-limits.js';
import { noNewPrivileges, poolServesPrivileges } from './privilege-choice.js';
import type { SnapshotHooks } from './snapshot-hooks.js';

export interface ProcessConfigRecord {
  cmd: string;
  args: string[];
  envs: Record<string, string>;
  cwd: string | undefined;
  tag: string | undefined;
}

/** A running sandbox the data plane can talk to. */
export interface LiveSandbox {
  record: SandboxRecord;
  client: SupervisorClient;
  /** What each started process was asked to run, for Process.List. */
  processConfigs: Map<number, ProcessConfigRecord>;
  /** Default working directory for commands (the template's WORKDIR), if it set one. */
  templateWorkdir: string | undefined;
}

export interface SandboxPage {
  sandboxes: SandboxRecord[];
  nextToken: string | undefined;
}

const SUPERVISOR_CONNECT_TIMEOUT_MS = 5000;
export const SANDBOX_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Point Python's requests and Node at the system bundle, which holds the egress proxy's CA too. */
const TRUST_STORE_ENV = { SSL_CERT_FILE: CA_BUNDLE_PATH, REQUESTS_CA_BUNDLE: CA_BUNDLE_PATH, NODE_EXTRA_CA_CERTS: CA_BUNDLE_PATH };

const WARM_UP_TIMEOUT_MS = 5000;

/**
 * Runs what the first command of a claimed sandbox would run (a login bash as `user`), so its
 * overlay lookups and page cache are warm; it exits and leaves nothing behind.
 */
async function warmUp(client: SupervisorClient): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new SandboxUnavailableError(`warm-up command did not finish within ${WARM_UP_TIMEOUT_MS} ms`)), WARM_UP_TIMEOUT_MS);
  });
  try {
    await Promise.race([runToExit(client, new Fields().addAll(FieldTag.arg, ['/bin/bash', '-l', '-c', 'true']).add(FieldTag.user, 'user')), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

function networkSettings(command: CreateSandboxCommand | undefined): SandboxNetworkSettings {
  if (!command) return { ...DEFAULT_NETWORK_SETTINGS };
  const { allowPublicTraffic } = command.network;
  return { ...command.network, trafficAccessToken: allowPublicTraffic ? null : newAccessToken() };
}

function encodeCursor(record: SandboxRecord): string {
  return Buffer.from(`${record.startedAtMs}:${record.id}`).toString('base64url');
}

function decodeCursor(token: string): { startedAtMs: number; id: string } {
  const [ms, id] = Buffer.from(token, 'base64url').toString('utf8').split(':');
  const startedAtMs = Number(ms);
  if (!id || !Number.isFinite(startedAtMs)) throw new InvalidArgumentError(`nextToken "${token}" is not a token this server issued`);
  return { startedAtMs, id };
}

export class SandboxService {
  private readonly live = new Map<string, LiveSandbox>();
  private reaper: NodeJS.Timeout | undefined;
  private readonly killing = new Map<string, Promise<void>>();

  private readonly pools: PoolManager;
  /** Pause on timeout, sandboxes started from memory snapshots; set once by the server (pause service). */
  snapshotHooks: SnapshotHooks | undefined;

  constructor(
    private readonly store: Store,
    private readonly backend: Backend,
    private readonly config: ServerConfig,
    private readonly log: Logger,
    /** Bridged networks with egress policy; without it sandboxes get a private loopback-only network. */
    private readonly network: SandboxNetworkManager | undefined,
    readonly metrics: Metrics = new Metrics(),
  ) {
    this.pools = new PoolManager({ startPooled: (templateId) => this.startPooled(templateId), discard: (live, reason) => this.destroy(live, reason) }, log);
  }

  /** CPU time, memory and process count of a live sandbox, from its cgroups. */
  async usage(live: LiveSandbox): Promise<ResourceUsage | undefined> {
    return this.backend.usage(live.record.runtime);
  }

  /** Host pids of every process a live sandbox owns. */
  async sandboxPids(live: LiveSandbox): Promise<number[]> {
    return this.backend.pids(live.record.runtime);
  }

  get liveCount(): number {
    return this.live.size;
  }

  liveSandboxes(): LiveSandbox[] {
    return [...this.live.values()];
  }

  /** Creates a sandbox: claims a warm one from the template's pool, or starts one cold on a miss; restores a persistent snapshot that `templateId` names. */
  async create(command: CreateSandboxCommand): Promise<SandboxRecord> {
    const startedAt = performance.now();
    for (const name of command.network.secrets) if (!(await this.store.getSecret(name))) throw new SecretNotFoundError(name);
    const template = await this.store.getTemplate(command.templateId);
    if (!template) {
      const restored = await this.snapshotHooks?.startFromSavedSnapshot(command);
      if (restored) return restored;
      throw new TemplateNotFoundError(command.templateId);
    }
    if (template.status !== 'ready') throw new ConflictError(`template "${command.templateId}" is ${template.status}, not ready`);
    // Pooled sandboxes carry the template's limits; a create asking for others starts cold with them.
    const diskLimits = this.backend.capabilities().limits.disk;
    const templateLimits = sameLimits(resolveLimits(template, command.limits, this.config, diskLimits), resolveLimits(template, {}, this.config, diskLimits));
    const poolFits = templateLimits && poolServesBackend(template, command, this.backend.kind) && poolServesPrivileges(template, command);
    const claimed = poolFits ? this.pools.claim(template.id) : undefined;
    if (claimed) {
      try {
        if (command.tools.length > 0) await this.backend.writeTools(claimed.record.runtime, toolFiles(command.tools));
        const record = await this.activateClaimed(claimed, command);
        this.metrics.recordCreate('pool_hit', (performance.now() - startedAt) / 1000);
        return record;
      } catch (error) {
        this.log.warn(`pooled sandbox ${claimed.record.id} could not be claimed (${toHearthError(error).message}); starting one cold`);
        void this.destroy(claimed, 'claim failed').catch(() => undefined);
      }
    }
    try {
      const live = await this.startSandbox(template, 'running', command);
      if (command.tools.length > 0) await this.backend.writeTools(live.record.runtime, toolFiles(command.tools));
      this.metrics.recordCreate('cold', (performance.now() - startedAt) / 1000);
      return live.record;
    } catch (error) {
      this.metrics.createFailures += 1;
      throw error;
    }
  }

  private newRecord(template: TemplateRecord, command: CreateSandboxCommand | undefined): SandboxRecord {
    const nowMs = Date.now();
    return {
      id: newSandboxId(),
      templateId: template.id,
      backend: chosenBackend(template, command) ?? this.backend.kind,
      state: 'starting',
      desiredState: command ? 'running' : 'paused',
      metadata: command?.metadata ?? {},
      envVars: command?.envVars ?? {},
      accessToken: newAccessToken(),
      startedAtMs: nowMs,
      endAtMs: command ? nowMs + command.timeoutMs : Number.MAX_SAFE_INTEGER,
      onTimeout: command?.autoPause ? 'pause' : 'kill',
      ...resolveLimits(template, command?.limits ?? {}, this.config, this.backend.capabilities().limits.disk),
      runtime: {},
      network: networkSettings(command),
      endedAtMs: null,
      endReason: null,
    };
  }

  /** Starts a sandbox from scratch; a pooled one is left frozen and handed to the pool, not the live map. */
  private async startSandbox(template: TemplateRecord, target: 'running' | 'pooled', command?: CreateSandboxCommand, source?: SandboxSnapshot): Promise<LiveSandbox> {
    let record = this.newRecord(template, command);
    const { id } = record;
    const slot: NetnsSlot | undefined = this.network ? await this.network.claim() : undefined;
    if (slot) record.network = { ...record.network, address: slot.address, slotIndex: slot.index };
    await this.store.insertSandbox(record);
    const spec: SandboxSpec = {
      sandboxId: id,
      hostname: id,
      template,
      cpuCount: record.cpuCount,
      memoryMiB: record.memoryMiB,
      pidsLimit: record.pidsLimit,
      diskMiB: record.diskMiB,
      baseEnv: { PATH: SANDBOX_PATH, LANG: 'C.UTF-8', ...(slot ? TRUST_STORE_ENV : {}), ...template.config.env, E2B_SANDBOX: 'true', E2B_SANDBOX_ID: id, HEARTH_SANDBOX_ID: id },
      network: 'none',
      ...(slot && this.network ? { netnsPath: slot.netnsPath, nameserver: this.network.layout.gateway, trustedCaPem: this.network.trustedCaPem } : {}),
      toolsMount: true,
      noNewPrivileges: noNewPrivileges(template, command),
      ...(record.backend !== this.backend.kind ? { backend: parseBackendKind(record.backend, 'backend') } : {}),
    };
    let runtime: Record<string, unknown> | undefined;
    try {
      this.network?.attach(record);
      // a fork's source, else the template's memory snapshot when it has one: processes continue, services already up
      const from = source ?? (await this.snapshotHooks?.templateSnapshot(template, record.backend));
      const started: StartedSandbox = from && this.backend.restore ? await this.backend.restore(spec, from) : await this.backend.start(spec);
      runtime = started.runtime;
      const connect = (): Promise<SupervisorClient> => SupervisorClient.connect({ socketPath: started.endpoint.socketPath, connectTimeoutMs: SUPERVISOR_CONNECT_TIMEOUT_MS });
      let client = await connect();
      // a backend restoring its own template snapshot brings the services up already running
      if (!from && !started.templateServicesRunning) await startTemplateServices(client, template);
      if (!from && (await this.snapshotHooks?.afterColdStart(template, record.backend, runtime))) {
        client.close();
        client = await connect();
      }
      if (target === 'pooled') {
        await warmUp(client);
        await this.backend.freeze(runtime);
      }
      record = (await this.transition(record, target, { runtime })) ?? record;
      const live: LiveSandbox = { record, client, processConfigs: new Map(), templateWorkdir: template.config.workdir };
      if (target === 'running') this.attach(live);
      await this.store.appendEvent({ atMs: Date.now(), sandboxId: id, type: target === 'running' ? 'sandbox.created' : 'sandbox.pooled', detail: { templateId: template.id } });
      return live;
    } catch (error) {
      const failure = toHearthError(error);
      this.log.warn(`sandbox ${id} failed to start: ${failure.message}`);
      if (runtime) await this.backend.stop(runtime).catch(() => undefined);
      if (!runtime || !(await this.backend.isAlive(runtime).catch(() => true))) this.network?.release(record);
      await this.store.updateSandbox(id, { state: 'failed', desiredState: 'killed', endedAtMs: Date.now(), endReason: failure.message });
      throw failure;
    }
  }

  /** A new running sandbox whose memory and files come from `source` (fork); the caller gets its record. */
  async startFromSnapshot(template: TemplateRecord, command: CreateSandboxCommand, source: SandboxSnapshot): Promise<SandboxRecord> {
    return (await this.startSandbox(template, 'running', command, source)).record;
  }

  /** Takes a live sandbox out of service without stopping it (before a pause); undefined when it is not live. */
  detachLive(sandboxId: string): LiveSandbox | undefined {
    const live = this.live.get(sandboxId);
    if (live) this.live.delete(sandboxId);
    return live;
  }

  /** Puts a resumed sandbox back into service. */
  attachLive(live: LiveSandbox): void {
    this.attach(live);
  }

  private async startPooled(templateId: string): Promise<LiveSandbox> {
    const template = await this.store.getTemplate(templateId);
    if (!template) throw new TemplateNotFoundError(templateId);
    return this.startSandbox(template, 'pooled');
  }

  /** Turns a claimed pooled sandbox into the caller's: thaw, then give it the request's identity-free settings. */
  private async activateClaimed(live: LiveSandbox, command: CreateSandboxCommand): Promise<SandboxRecord> {
    await this.backend.thaw(live.record.runtime);
    const nowMs = Date.now();
    const record = await this.transition(live.record, 'running', {
      desiredState: 'running',
      metadata: command.metadata,
      envVars: command.envVars,
      accessToken: newAccessToken(),
      startedAtMs: nowMs,
      endAtMs: nowMs + command.timeoutMs,
      onTimeout: command.autoPause ? 'pause' : 'kill',
      network: { ...networkSettings(command), address: live.record.network.address, slotIndex: live.record.network.slotIndex },
    });
    if (!record) throw new SandboxNotFoundError(live.record.id);
    live.record = record;
    this.network?.attach(record);
    this.attach(live);
    void this.store.appendEvent({ atMs: nowMs, sandboxId: record.id, type: 'sandbox.claimed', detail: { templateId: record.templateId } });
    return record;
  }

  private attach(live: LiveSandbox): void {
    const { id } = live.record;
    this.live.set(id, live);
    live.client.onClosed(() => {
      if (this.live.get(id) === live && !this.killing.has(id)) {
        this.log.warn(`sandbox ${id}: supervisor connection lost, reaping the sandbox`);
        void this.kill(id, 'supervisor exited').catch(() => undefined);
      }
    });
  }

  /** Replaces the tool definitions a live sandbox sees under /run/hearth/tools. */
  async setTools(sandboxId: string, tools: readonly ToolDefinition[]): Promise<void> {
    const live = this.getLive(sandboxId);
    await this.backend.writeTools(live.record.runtime, toolFiles(tools));
  }

  /** Replaces a live sandbox's egress rules and header rules (E2B's network update); effective for new connections at once. */
  async updateNetwork(sandboxId: string, update: Pick<SandboxNetworkSettings, 'allowOut' | 'denyOut' | 'rules'>): Promise<SandboxRecord> {
    const live = this.getLive(sandboxId);
    const record = await this.updateLive(live, { network: { ...live.record.network, ...update } });
    this.network?.attach(record);
    return record;
  }

  /** Withdraws one secret from a live sandbox: its metadata service and egress proxy stop handing it out. */
  async revokeSecret(sandboxId: string, name: string): Promise<void> {
    const live = this.getLive(sandboxId);
    if (!live.record.network.secrets.includes(name)) throw new InvalidArgumentError(`secret "${name}" is not granted to sandbox ${sandboxId}`);
    const record = await this.updateLive(live, { network: { ...live.record.network, secrets: live.record.network.secrets.filter((granted) => granted !== name) } });
    this.network?.attach(record);
  }

  /** The egress audit log of a sandbox, live or ended, newest first. */
  async egressEvents(sandboxId: string, limit: number): Promise<EgressEventRecord[]> {
    if (!this.live.has(sandboxId) && !(await this.store.getSandbox(sandboxId))) throw new SandboxNotFoundError(sandboxId);
    return this.store.listEgressEvents(sandboxId, limit);
  }

  /** Sets pool targets (from config, flags or the admin API); persisted so they survive restarts. */
  async setPoolTarget(templateId: string, target: number): Promise<void> {
    if (!Number.isInteger(target) || target < 0 || target > 1000) throw new InvalidArgumentError('pool target must be an integer from 0 to 1000');
    if (!(await this.store.getTemplate(templateId))) throw new TemplateNotFoundError(templateId);
    await this.store.setPoolTarget({ templateId, target });
    this.pools.setTarget(templateId, target);
  }

  poolStats(): PoolStats[] {
    return this.pools.stats();
  }

  /** Starts refilling pools to the targets stored earlier. */
  async startPools(): Promise<void> {
    for (const { templateId, target } of await this.store.listPoolTargets()) {
      if (await this.store.getTemplate(templateId)) this.pools.setTarget(templateId, target);
    }
  }

  private async transition(record: SandboxRecord, to: SandboxState, patch: Partial<SandboxRecord> = {}): Promise<SandboxRecord | undefined> {
    assertTransition(record.id, record.state, to);
    return this.store.updateSandbox(record.id, { ...patch, state: to });
  }

  /** The live sandbox or SandboxNotFoundError. */
  getLive(sandboxId: string): LiveSandbox {
    const live = this.live.get(sandboxId);
    if (!live) throw new SandboxNotFoundError(sandboxId);
    return live;
  }

  get(sandboxId: string): SandboxRecord {
    return this.getLive(sandboxId).record;
  }

  async list(command: ListSandboxesCommand): Promise<SandboxPage> {
    const states: SandboxState[] = command.states.length > 0 ? command.states : ['running', 'paused'];
    const limit = command.limit;
    const rows = await this.store.listSandboxes({
      states,
      metadata: command.metadata,
      ...(command.nextToken ? { after: decodeCursor(command.nextToken) } : {}),
      ...(limit !== undefined ? { limit: limit + 1 } : {}),
    });
    const sandboxes = limit !== undefined ? rows.slice(0, limit) : rows;
    const last = sandboxes[sandboxes.length - 1];
    const nextToken = limit !== undefined && rows.length > limit && last ? encodeCursor(last) : undefined;
    return { sandboxes: sandboxes.map((row) => this.live.get(row.id)?.record ?? row), nextToken };
  }

  async setTimeout(command: SetTimeoutCommand): Promise<SandboxRecord> {
    const live = this.getLive(command.sandboxId);
    this.checkTimeout(command.timeoutMs);
    return this.updateLive(live, { endAtMs: Date.now() + command.timeoutMs });
  }

  async connect(command: ConnectSandboxCommand): Promise<SandboxRecord> {
    const live = this.getLive(command.sandboxId);
    if (command.timeoutMs === undefined) return live.record;
    this.checkTimeout(command.timeoutMs);
    const endAtMs = Math.max(live.record.endAtMs, Date.now() + command.timeoutMs);
    return this.updateLive(live, { endAtMs });
  }

  checkTimeout(timeoutMs: number): void {
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new InvalidArgumentError('timeout must be a positive number of seconds');
    if (timeoutMs > this.config.maxTimeoutMs) {
      throw new InvalidArgumentError(`timeout ${Math.round(timeoutMs / 1000)} s exceeds the maximum of ${this.config.maxTimeoutMs / 1000} s (24 hours)`);
    }
  }

  private async updateLive(live: LiveSandbox, patch: Partial<SandboxRecord>): Promise<SandboxRecord> {
    const updated = await this.store.updateSandbox(live.record.id, patch);
    if (!updated) throw new SandboxNotFoundError(live.record.id);
    live.record = updated;
    return updated;
  }

  /** Kills a live sandbox and frees everything it held. */
  async kill(sandboxId: string, reason: string): Promise<void> {
    const inFlight = this.killing.get(sandboxId);
    if (inFlight) return inFlight;
    const live = this.getLive(sandboxId);
    const done = this.destroy(live, reason).finally(() => this.killing.delete(sandboxId));
    this.killing.set(sandboxId, done);
    return done;
  }

  private async destroy(live: LiveSandbox, reason: string): Promise<void> {
    const { id } = live.record;
    if (this.live.get(id) === live) this.live.delete(id);
    await this.store.updateSandbox(id, { state: 'stopping', desiredState: 'killed' });
    live.client.close();
    try {
      await this.backend.stop(live.record.runtime);
      this.network?.release(live.record);
    } finally {
      await this.store.updateSandbox(id, { state: 'killed', endedAtMs: Date.now(), endReason: reason });
      await this.store.appendEvent({ atMs: Date.now(), sandboxId: id, type: 'sandbox.killed', detail: { reason } });
    }
  }

  /** Re-attaches sandboxes (and pooled ones) that survived a daemon restart; reaps the ones that did not. */
  async recover(): Promise<{ reattached: number; reaped: number }> {
    let reattached = 0;
    let reaped = 0;
    const paused: SandboxRecord[] = [];
    for (const record of await this.store.listSandboxes({ states: LIVE_STATES })) {
      // a paused sandbox has no processes to find: it keeps its files, image and network slot until resumed
      if (record.state === 'paused' && this.snapshotHooks) {
        paused.push(record);
        continue;
      }
      const hasRuntime = Object.keys(record.runtime).length > 0;
      const resumable = record.state === 'running' || record.state === 'pooled';
      if (resumable && hasRuntime && (await this.backend.isAlive(record.runtime))) {
        try {
          if (record.state === 'pooled') await this.backend.thaw(record.runtime);
          const client = await SupervisorClient.connect({
            socketPath: this.backend.endpoint(record.runtime).socketPath,
            connectTimeoutMs: SUPERVISOR_CONNECT_TIMEOUT_MS,
          });
          const template = await this.store.getTemplate(record.templateId);
          const live: LiveSandbox = { record, client, processConfigs: new Map(), templateWorkdir: template?.config.workdir };
          if (record.state === 'pooled') {
            await this.backend.freeze(record.runtime);
            this.pools.adopt(record.templateId, live);
          } else {
            this.attach(live);
          }
          reattached += 1;
          continue;
        } catch (error) {
          this.log.warn(`sandbox ${record.id}: cannot re-attach (${toHearthError(error).message}), reaping it`);
        }
      }
      if (hasRuntime) await this.backend.stop(record.runtime).catch(() => undefined);
      await this.store.updateSandbox(record.id, { state: 'killed', desiredState: 'killed', endedAtMs: Date.now(), endReason: 'lost while the server was down' });
      reaped += 1;
    }
    const known = new Set([...this.live.keys(), ...this.pools.allIds(), ...paused.map((record) => record.id)]);
    await this.network?.recover([...[...this.live.values(), ...this.pools.allLive()].map((live) => live.record), ...paused]);
    reaped += await this.backend.reapOrphans(known);
    return { reattached, reaped };
  }

  startReaper(): void {
    this.reaper = setInterval(() => void this.reapExpired(), this.config.reaperIntervalMs);
    this.reaper.unref();
  }

  private async reapExpired(): Promise<void> {
    const nowMs = Date.now();
    for (const live of [...this.live.values()]) {
      if (live.record.endAtMs <= nowMs && !this.killing.has(live.record.id)) {
        if (live.record.onTimeout === 'pause' && this.snapshotHooks) {
          await this.snapshotHooks.pauseOnTimeout(live.record.id).catch((error: unknown) => {
            this.log.warn(`sandbox ${live.record.id}: pause on timeout failed (${toHearthError(error).message}); killing it`);
            return this.kill(live.record.id, 'timeout');
          }).catch(() => undefined);
          continue;
        }
        await this.kill(live.record.id, 'timeout').catch((error: unknown) => {
          this.log.warn(`sandbox ${live.record.id}: reaping failed: ${toHearthError(error).message}`);
        });
      }
    }
  }

  /** Stops background work and closes supervisor connections; sandboxes keep running for the next start. */
  async shutdown(): Promise<void> {
    if (this.reaper) clearInterval(this.reaper);
    await this.pools.stop();
    for (const pooled of this.pools.takeAll()) pooled.client.close();
    await Promise.allSettled(this.killing.values());
    const detached = [...this.live.values()];
    this.live.clear();
    for (const live of detached) live.client.close();
  }

  /** Kills every live sandbox (used by `hearth serve --kill-on-exit` and tests). */
  async killAll(reason: string): Promise<void> {
    await this.pools.stop();
    await Promise.allSettled(this.pools.takeAll().map((pooled) => this.destroy(pooled, reason)));
    await Promise.allSettled([...this.live.keys()].map((id) => this.kill(id, reason)));
  }
}
