// The Backend contract: how a sandbox is isolated and started. namespaces (default), gVisor and microVM implement it.
import type { TemplateRecord } from '../store/store.js';
import type { BackendKind } from './backend-kinds.js';

export interface BackendCapabilities {
  pause: boolean;
  snapshot: boolean;
  fork: boolean;
  /** loopback: a private network namespace with only `lo`. */
  network: 'loopback' | 'bridged';
  limits: { memory: boolean; pids: boolean; cpu: boolean; disk: boolean };
}

export interface SandboxSpec {
  sandboxId: string;
  hostname: string;
  template: TemplateRecord;
  cpuCount: number;
  memoryMiB: number;
  pidsLimit: number;
  /** Bytes the sandbox's writable layer may hold, in MiB; 0: no limit of its own. Ignored for a caller-owned upperDir and by backends without `limits.disk`. */
  diskMiB: number;
  /** Environment every process in the sandbox starts from. */
  baseEnv: Record<string, string>;
  /** `none`: a private network namespace with loopback only; `host`: shares the host's (template builds). */
  network: 'none' | 'host';
  /** A prepared network namespace to join (veth, address, routes set up by the host) instead of a private one. */
  netnsPath?: string;
  /** The DNS server written to the sandbox's /etc/resolv.conf. */
  nameserver?: string;
  /** A CA certificate (PEM) added to the sandbox's trust store: the egress proxy's, for hosts with header rules. */
  trustedCaPem?: string;
  /** Which backend runs the sandbox (a create's or template's choice); absent: the server's default. */
  backend?: BackendKind;
  /** Set no_new_privs on the sandbox's PID 1, so no process in it gains privileges through setuid programs. */
  noNewPrivileges?: boolean;
  /** Whether to mount the read-only tool files at /run/hearth/tools (not for template build steps). */
  toolsMount: boolean;
  /** A caller-owned writable layer (a template build step keeps it as a new layer); the backend never deletes it, but may keep its own scratch directory `<upperDir>.work` beside it until stop. */
  upperDir?: string;
}

/** Where the host reaches the sandbox's supervisor. */
export interface SupervisorEndpoint {
  socketPath: string;
}

/** What a backend needs to find a sandbox again after a daemon restart; persisted as JSON. */
export type SandboxRuntime = Record<string, unknown>;

export interface StartedSandbox {
  runtime: SandboxRuntime;
  endpoint: SupervisorEndpoint;
  /** The template's start command already runs and its ready check passed (restored from a snapshot taken after them). */
  templateServicesRunning?: boolean;
}

/** A checkpoint of a running sandbox's memory and files that new sandboxes start from (fork, snapshot-started templates). */
export interface SandboxSnapshot {
  /** Holds the backend's memory image (with its checked manifest) and a copy of the writable layer. */
  dir: string;
  templateId: string;
  /** The sandbox it was taken from. */
  sourceSandboxId: string;
}

export interface ResourceUsage {
  cpuUsageNs: number;
  memoryBytes: number;
  pids: number;
}

export interface Backend {
  readonly kind: string;
  capabilities(): BackendCapabilities;
  /** Fails closed with BackendMisconfiguredError naming what to install when the host cannot run this backend. */
  checkHost(): Promise<void>;
  start(spec: SandboxSpec): Promise<StartedSandbox>;
  /** Kills every process of the sandbox and frees everything it held (files possibly in the background, finished by close()); idempotent. */
  stop(runtime: SandboxRuntime): Promise<void>;
  isAlive(runtime: SandboxRuntime): Promise<boolean>;
  endpoint(runtime: SandboxRuntime): SupervisorEndpoint;
  usage(runtime: SandboxRuntime): Promise<ResourceUsage | undefined>;
  /** Host pids of every process the sandbox owns (supervisor included), for memory accounting. */
  pids(runtime: SandboxRuntime): Promise<number[]>;
  /** Replaces the sandbox's read-only tool files (mounted at /run/hearth/tools); the sandbox cannot write them. */
  writeTools(runtime: SandboxRuntime, files: Record<string, string>): Promise<void>;
  /** Stops the sandbox's processes from being scheduled (a pooled sandbox costs no CPU); cheap and reversible. */
  freeze(runtime: SandboxRuntime): Promise<void>;
  thaw(runtime: SandboxRuntime): Promise<void>;
  /** Frees what is left of sandboxes this server no longer knows (e.g. after a crash mid-cleanup); returns how many. */
  reapOrphans(keepSandboxIds: ReadonlySet<string>): Promise<number>;
  /** Finishes background cleanup and releases the backend's helpers (never the sandboxes, which outlive a daemon restart). */
  close(): Promise<void>;
  /** Saves the sandbox's memory, processes and files and frees its processes and memory; the returned runtime resumes it. */
  pause(runtime: SandboxRuntime): Promise<SandboxRuntime>;
  /** Brings a paused sandbox back with the same processes; a corrupt pause image is refused (SnapshotInvalidError). */
  resume(runtime: SandboxRuntime): Promise<SandboxRuntime>;
  /** Checkpoints a running sandbox into `dir` and leaves it running; absent: the backend cannot (UnsupportedError). */
  snapshot?(runtime: SandboxRuntime, dir: string): Promise<SandboxSnapshot>;
  /**
   * Starts a new sandbox whose processes continue from `snapshot`; its identity (hostname, environment) comes from `spec`.
   * The new sandbox must not need `snapshot.dir` once this returns: forks delete it at once, and a persistent snapshot
   * may be deleted while sandboxes started from it run.
   */
  restore?(spec: SandboxSpec, snapshot: SandboxSnapshot): Promise<StartedSandbox>;
}
