// The Store contract: everything Hearth persists. SQLite by default; every store runs the same contract tests.

/** `pooled`: started and frozen, waiting in a template's warm pool to be claimed by a create. */
export type SandboxState = 'starting' | 'pooled' | 'running' | 'paused' | 'stopping' | 'killed' | 'failed';
export type DesiredState = 'running' | 'paused' | 'killed';

export interface SandboxRecord {
  id: string;
  templateId: string;
  backend: string;
  state: SandboxState;
  desiredState: DesiredState;
  metadata: Record<string, string>;
  envVars: Record<string, string>;
  accessToken: string;
  startedAtMs: number;
  endAtMs: number;
  cpuCount: number;
  memoryMiB: number;
  diskMiB: number;
  pidsLimit: number;
  /** Backend-specific handle needed to re-attach after a daemon restart (pids, socket paths). */
  runtime: Record<string, unknown>;
  network: SandboxNetworkSettings;
  /** What the timeout does (E2B's `autoPause` / `lifecycle.onTimeout`); absent: kill. */
  onTimeout?: 'kill' | 'pause';
  endedAtMs: number | null;
  endReason: string | null;
}

/** A header the egress proxy sets on a sandbox's plain-HTTP requests to a host; `{{ secrets.NAME }}` expands to a secret. */
export interface HeaderTransformRecord {
  headers: Record<string, string>;
}

/** The sandbox's network identity and policy (E2B's `network` create options plus Hearth's secret grants). */
export interface SandboxNetworkSettings {
  /** Address on the sandbox bridge, and which prepared network namespace holds it; absent without a bridged network. */
  address?: string;
  slotIndex?: number;
  allowOut: string[];
  denyOut: string[];
  /** Per-host header transforms (E2B's `network.rules`), keyed by domain or `*.domain`. */
  rules: Record<string, HeaderTransformRecord[]>;
  /** Without it, reaching a port of the sandbox needs `trafficAccessToken`. */
  allowPublicTraffic: boolean;
  trafficAccessToken: string | null;
  maskRequestHost: string | null;
  /** Names of the secrets the sandbox's metadata service and egress proxy may hand out. */
  secrets: string[];
}

export const DEFAULT_NETWORK_SETTINGS: SandboxNetworkSettings = {
  allowOut: [],
  denyOut: [],
  rules: {},
  allowPublicTraffic: true,
  trafficAccessToken: null,
  maskRequestHost: null,
  secrets: [],
};

/** A secret's value sealed with the server's key (which never enters the database). */
export interface SecretRecord {
  name: string;
  sealed: string;
  createdAtMs: number;
  updatedAtMs: number;
}

/** One outbound connection or DNS lookup a sandbox attempted, and what the egress policy decided. */
export interface EgressEventRecord {
  atMs: number;
  sandboxId: string;
  action: 'allow' | 'deny';
  /** tls, http, tcp (anything else), dns */
  protocol: string;
  host: string | null;
  address: string | null;
  port: number | null;
  reason: string;
}

export interface SandboxListQuery {
  states?: readonly SandboxState[];
  metadata?: Readonly<Record<string, string>>;
  templateId?: string;
  /** Return records whose (startedAtMs, id) sorts after this cursor. */
  after?: { startedAtMs: number; id: string };
  limit?: number;
}

/** How sandboxes of a template start: environment, user, working directory, start command and ready check. */
export interface TemplateConfig {
  env: Record<string, string>;
  user: string;
  workdir: string | undefined;
  startCmd: string | undefined;
  readyCmd: string | undefined;
  exposedPorts: string[];
  labels: Record<string, string>;
}

export const DEFAULT_TEMPLATE_CONFIG: TemplateConfig = { env: {}, user: 'user', workdir: undefined, startCmd: undefined, readyCmd: undefined, exposedPorts: [], labels: {} };

export interface TemplateRecord {
  id: string;
  aliases: string[];
  /** The read-only root filesystem as overlay lower layers, topmost first. */
  layers: string[];
  config: TemplateConfig;
  /** How long the last build took, and which build made it. */
  buildMs: number;
  createdAtMs: number;
  cpuCount: number;
  memoryMiB: number;
  /** Default disk limit of its sandboxes; 0: the server's default. */
  diskMiB: number;
  /** Default process limit of its sandboxes; 0: the server's default. */
  pidsLimit: number;
  sizeBytes: number;
  status: 'ready' | 'building' | 'failed';
}

/**
 * A persistent snapshot (E2B's `createSnapshot`): a checkpoint of a sandbox's memory and files that new sandboxes
 * start from, kept until deleted. Its files live under `<dataDir>/snapshots/saved/<id>`.
 */
export interface SnapshotRecord {
  id: string;
  /** The name it also answers to; a later snapshot taken with the same name takes the name over. */
  name: string | null;
  sourceSandboxId: string;
  backend: string;
  /** The source's template as it was when the snapshot was taken: the snapshot's files sit on its layers. */
  template: TemplateRecord;
  /** The source's limits and environment variables: the defaults of sandboxes started from it. */
  cpuCount: number;
  memoryMiB: number;
  pidsLimit: number;
  envVars: Record<string, string>;
  sizeBytes: number;
  createdAtMs: number;
}

export interface SnapshotListQuery {
  sourceSandboxId?: string;
  /** Only the snapshot with this id or name. */
  idOrName?: string;
  /** Return records whose (createdAtMs, id) sorts after this cursor. */
  after?: { createdAtMs: number; id: string };
  limit?: number;
}

export interface ApiKeyRecord {
  id: string;
  /** SHA-256 of the key, hex; the key itself is never stored. */
  keyHash: string;
  prefix: string;
  createdAtMs: number;
}

export interface PoolTargetRecord {
  templateId: string;
  target: number;
}

export interface EventRecord {
  atMs: number;
  sandboxId: string | null;
  type: string;
  detail: Record<string, unknown>;
}

export interface Store {
  readonly kind: string;

  insertSandbox(record: SandboxRecord): Promise<void>;
  updateSandbox(id: string, patch: Partial<Omit<SandboxRecord, 'id'>>): Promise<SandboxRecord | undefined>;
  getSandbox(id: string): Promise<SandboxRecord | undefined>;
  listSandboxes(query: SandboxListQuery): Promise<SandboxRecord[]>;

  upsertTemplate(record: TemplateRecord): Promise<void>;
  getTemplate(idOrAlias: string): Promise<TemplateRecord | undefined>;
  listTemplates(): Promise<TemplateRecord[]>;
  deleteTemplate(id: string): Promise<boolean>;

  /** Stores a snapshot; a snapshot holding the same name loses it (in the same transaction). */
  insertSnapshot(record: SnapshotRecord): Promise<void>;
  /** By id first, then by name. */
  getSnapshot(idOrName: string): Promise<SnapshotRecord | undefined>;
  /** Oldest first. */
  listSnapshots(query: SnapshotListQuery): Promise<SnapshotRecord[]>;
  deleteSnapshot(id: string): Promise<boolean>;

  insertApiKey(record: ApiKeyRecord): Promise<void>;
  findApiKeyByHash(keyHash: string): Promise<ApiKeyRecord | undefined>;
  countApiKeys(): Promise<number>;

  setPoolTarget(record: PoolTargetRecord): Promise<void>;
  listPoolTargets(): Promise<PoolTargetRecord[]>;

  appendEvent(event: EventRecord): Promise<void>;
  listEvents(sandboxId: string | null, limit: number): Promise<EventRecord[]>;

  putSecret(record: SecretRecord): Promise<void>;
  getSecret(name: string): Promise<SecretRecord | undefined>;
  listSecrets(): Promise<SecretRecord[]>;
  deleteSecret(name: string): Promise<boolean>;

  appendEgressEvent(event: EgressEventRecord): Promise<void>;
  /** Newest first. */
  listEgressEvents(sandboxId: string, limit: number): Promise<EgressEventRecord[]>;

  close(): Promise<void>;
}
