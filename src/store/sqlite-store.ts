// Embedded SQLite implementation of the Store contract (one file in the data directory).
import Database from 'better-sqlite3';
import type {
  ApiKeyRecord,
  EgressEventRecord,
  EventRecord,
  PoolTargetRecord,
  SandboxListQuery,
  SandboxNetworkSettings,
  SandboxRecord,
  SecretRecord,
  SnapshotListQuery,
  SnapshotRecord,
  Store,
  TemplateConfig,
  TemplateRecord,
} from './store.js';
import { DEFAULT_NETWORK_SETTINGS, DEFAULT_TEMPLATE_CONFIG } from './store.js';
import { SQLITE_MIGRATIONS } from './sqlite-migrations.js';

interface SandboxRow {
  id: string;
  template_id: string;
  backend: string;
  state: string;
  desired_state: string;
  metadata: string;
  env_vars: string;
  access_token: string;
  started_at_ms: number;
  end_at_ms: number;
  cpu_count: number;
  memory_mib: number;
  disk_mib: number;
  pids_limit: number;
  runtime: string;
  network: string;
  on_timeout: string;
  ended_at_ms: number | null;
  end_reason: string | null;
}

interface TemplateRow {
  id: string;
  aliases: string;
  rootfs_path: string;
  layers: string;
  config: string;
  build_ms: number;
  created_at_ms: number;
  cpu_count: number;
  memory_mib: number;
  disk_mib: number;
  pids_limit: number;
  size_bytes: number;
  status: string;
}

interface SecretRow {
  name: string;
  sealed: string;
  created_at_ms: number;
  updated_at_ms: number;
}

function toSecret(row: SecretRow): SecretRecord {
  return { name: row.name, sealed: row.sealed, createdAtMs: row.created_at_ms, updatedAtMs: row.updated_at_ms };
}

interface EgressEventRow {
  at_ms: number;
  sandbox_id: string;
  action: string;
  protocol: string;
  host: string | null;
  address: string | null;
  port: number | null;
  reason: string;
}

function toSandbox(row: SandboxRow): SandboxRecord {
  return {
    id: row.id,
    templateId: row.template_id,
    backend: row.backend,
    state: row.state as SandboxRecord['state'],
    desiredState: row.desired_state as SandboxRecord['desiredState'],
    metadata: JSON.parse(row.metadata) as Record<string, string>,
    envVars: JSON.parse(row.env_vars) as Record<string, string>,
    accessToken: row.access_token,
    startedAtMs: row.started_at_ms,
    endAtMs: row.end_at_ms,
    cpuCount: row.cpu_count,
    memoryMiB: row.memory_mib,
    diskMiB: row.disk_mib,
    pidsLimit: row.pids_limit,
    runtime: JSON.parse(row.runtime) as Record<string, unknown>,
    network: { ...DEFAULT_NETWORK_SETTINGS, ...(JSON.parse(row.network) as Partial<SandboxNetworkSettings>) },
    onTimeout: row.on_timeout === 'pause' ? 'pause' : 'kill',
    endedAtMs: row.ended_at_ms,
    endReason: row.end_reason,
  };
}

function toSandboxRow(record: SandboxRecord): SandboxRow {
  return {
    id: record.id,
    template_id: record.templateId,
    backend: record.backend,
    state: record.state,
    desired_state: record.desiredState,
    metadata: JSON.stringify(record.metadata),
    env_vars: JSON.stringify(record.envVars),
    access_token: record.accessToken,
    started_at_ms: record.startedAtMs,
    end_at_ms: record.endAtMs,
    cpu_count: record.cpuCount,
    memory_mib: record.memoryMiB,
    disk_mib: record.diskMiB,
    pids_limit: record.pidsLimit,
    runtime: JSON.stringify(record.runtime),
    network: JSON.stringify(record.network),
    on_timeout: record.onTimeout ?? 'kill',
    ended_at_ms: record.endedAtMs,
    end_reason: record.endReason,
  };
}

interface SnapshotRow {
  id: string;
  name: string | null;
  source_sandbox_id: string;
  backend: string;
  template: string;
  cpu_count: number;
  memory_mib: number;
  pids_limit: number;
  env_vars: string;
  size_bytes: number;
  created_at_ms: number;
}

function toSnapshot(row: SnapshotRow): SnapshotRecord {
  const template = JSON.parse(row.template) as TemplateRecord;
  return {
    id: row.id,
    name: row.name,
    sourceSandboxId: row.source_sandbox_id,
    backend: row.backend,
    template: { ...template, config: { ...DEFAULT_TEMPLATE_CONFIG, ...template.config } },
    cpuCount: row.cpu_count,
    memoryMiB: row.memory_mib,
    pidsLimit: row.pids_limit,
    envVars: JSON.parse(row.env_vars) as Record<string, string>,
    sizeBytes: row.size_bytes,
    createdAtMs: row.created_at_ms,
  };
}

function toTemplate(row: TemplateRow): TemplateRecord {
  return {
    id: row.id,
    aliases: JSON.parse(row.aliases) as string[],
    layers: JSON.parse(row.layers) as string[],
    config: { ...DEFAULT_TEMPLATE_CONFIG, ...(JSON.parse(row.config) as Partial<TemplateConfig>) },
    buildMs: row.build_ms,
    createdAtMs: row.created_at_ms,
    cpuCount: row.cpu_count,
    memoryMiB: row.memory_mib,
    diskMiB: row.disk_mib,
    pidsLimit: row.pids_limit,
    sizeBytes: row.size_bytes,
    status: row.status as TemplateRecord['status'],
  };
}

export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();

  constructor(filePath: string) {
    this.db = new Database(filePath);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.migrate();
  }

  /** Prepared statements are cached: preparing costs more than running on the create path. */
  private sql(text: string): Database.Statement {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  private migrate(): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
    const row = this.db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
    let version = row?.version ?? 0;
    if (!row) this.db.prepare('INSERT INTO schema_version (version) VALUES (0)').run();
    for (const migration of SQLITE_MIGRATIONS.slice(version)) {
      this.db.transaction(() => {
        this.db.exec(migration);
        version += 1;
        this.db.prepare('UPDATE schema_version SET version = ?').run(version);
      })();
    }
  }

  async insertSandbox(record: SandboxRecord): Promise<void> {
    const row = toSandboxRow(record);
    this.sql(
        `INSERT INTO sandboxes (id, template_id, backend, state, desired_state, metadata, env_vars, access_token,
          started_at_ms, end_at_ms, cpu_count, memory_mib, disk_mib, pids_limit, runtime, network, on_timeout, ended_at_ms, end_reason)
         VALUES (@id, @template_id, @backend, @state, @desired_state, @metadata, @env_vars, @access_token,
          @started_at_ms, @end_at_ms, @cpu_count, @memory_mib, @disk_mib, @pids_limit, @runtime, @network, @on_timeout, @ended_at_ms, @end_reason)`,
      )
      .run(row);
  }

  async updateSandbox(id: string, patch: Partial<Omit<SandboxRecord, 'id'>>): Promise<SandboxRecord | undefined> {
    return this.db.transaction(() => {
      const current = this.sql('SELECT * FROM sandboxes WHERE id = ?').get(id) as SandboxRow | undefined;
      if (!current) return undefined;
      const next: SandboxRecord = { ...toSandbox(current), ...patch, id };
      const row = toSandboxRow(next);
      this.sql(
          `UPDATE sandboxes SET template_id=@template_id, backend=@backend, state=@state, desired_state=@desired_state,
            metadata=@metadata, env_vars=@env_vars, access_token=@access_token, started_at_ms=@started_at_ms,
            end_at_ms=@end_at_ms, cpu_count=@cpu_count, memory_mib=@memory_mib, disk_mib=@disk_mib, pids_limit=@pids_limit, runtime=@runtime, network=@network, on_timeout=@on_timeout,
            ended_at_ms=@ended_at_ms, end_reason=@end_reason WHERE id=@id`,
        )
        .run(row);
      return next;
    })();
  }

  async getSandbox(id: string): Promise<SandboxRecord | undefined> {
    const row = this.sql('SELECT * FROM sandboxes WHERE id = ?').get(id) as SandboxRow | undefined;
    return row ? toSandbox(row) : undefined;
  }

  async listSandboxes(query: SandboxListQuery): Promise<SandboxRecord[]> {
    const where: string[] = [];
    const params: Record<string, unknown> = {};
    if (query.states && query.states.length > 0) {
      const names = query.states.map((state, index) => {
        params[`state${index}`] = state;
        return `@state${index}`;
      });
      where.push(`state IN (${names.join(', ')})`);
    }
    if (query.templateId) {
      where.push('template_id = @templateId');
      params['templateId'] = query.templateId;
    }
    Object.entries(query.metadata ?? {}).forEach(([key, value], index) => {
      where.push(`EXISTS (SELECT 1 FROM json_each(sandboxes.metadata) WHERE json_each.key = @metaKey${index} AND json_each.value = @metaValue${index})`);
      params[`metaKey${index}`] = key;
      params[`metaValue${index}`] = value;
    });
    if (query.after) {
      where.push('(started_at_ms > @afterMs OR (started_at_ms = @afterMs AND id > @afterId))');
      params['afterMs'] = query.after.startedAtMs;
      params['afterId'] = query.after.id;
    }
    const limit = query.limit !== undefined ? ` LIMIT ${Math.max(0, Math.floor(query.limit))}` : '';
    const sql = `SELECT * FROM sandboxes ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at_ms, id${limit}`;
    return (this.db.prepare(sql).all(params) as SandboxRow[]).map(toSandbox);
  }

  async upsertTemplate(record: TemplateRecord): Promise<void> {
    this.sql(
        `INSERT INTO templates (id, aliases, rootfs_path, layers, config, build_ms, created_at_ms, cpu_count, memory_mib, disk_mib, pids_limit, size_bytes, status)
         VALUES (@id, @aliases, @rootfs_path, @layers, @config, @build_ms, @created_at_ms, @cpu_count, @memory_mib, @disk_mib, @pids_limit, @size_bytes, @status)
         ON CONFLICT(id) DO UPDATE SET aliases=excluded.aliases, rootfs_path=excluded.rootfs_path, layers=excluded.layers,
           config=excluded.config, build_ms=excluded.build_ms,
           created_at_ms=excluded.created_at_ms, cpu_count=excluded.cpu_count, memory_mib=excluded.memory_mib,
           disk_mib=excluded.disk_mib, pids_limit=excluded.pids_limit, size_bytes=excluded.size_bytes, status=excluded.status`,
      )
      .run({
        id: record.id,
        aliases: JSON.stringify(record.aliases),
        rootfs_path: record.layers[0] ?? '',
        layers: JSON.stringify(record.layers),
        config: JSON.stringify(record.config),
        build_ms: record.buildMs,
        created_at_ms: record.createdAtMs,
        cpu_count: record.cpuCount,
        memory_mib: record.memoryMiB,
        disk_mib: record.diskMiB,
        pids_limit: record.pidsLimit,
        size_bytes: record.sizeBytes,
        status: record.status,
      });
  }

  async getTemplate(idOrAlias: string): Promise<TemplateRecord | undefined> {
    const byId = this.sql('SELECT * FROM templates WHERE id = ?').get(idOrAlias) as TemplateRow | undefined;
    if (byId) return toTemplate(byId);
    const byAlias = this.sql('SELECT templates.* FROM templates, json_each(templates.aliases) WHERE json_each.value = ?')
      .get(idOrAlias) as TemplateRow | undefined;
    return byAlias ? toTemplate(byAlias) : undefined;
  }

  async deleteTemplate(id: string): Promise<boolean> {
    const result = this.sql('DELETE FROM templates WHERE id = ?').run(id);
    this.sql('DELETE FROM pool_targets WHERE template_id = ?').run(id);
    return result.changes > 0;
  }

  async listTemplates(): Promise<TemplateRecord[]> {
    return (this.sql('SELECT * FROM templates ORDER BY created_at_ms').all() as TemplateRow[]).map(toTemplate);
  }

  async insertSnapshot(record: SnapshotRecord): Promise<void> {
    this.db.transaction(() => {
      if (record.name !== null) this.sql('UPDATE snapshots SET name = NULL WHERE name = ?').run(record.name);
      this.sql(
        `INSERT INTO snapshots (id, name, source_sandbox_id, backend, template, cpu_count, memory_mib, pids_limit, env_vars, size_bytes, created_at_ms)
         VALUES (@id, @name, @source_sandbox_id, @backend, @template, @cpu_count, @memory_mib, @pids_limit, @env_vars, @size_bytes, @created_at_ms)`,
      ).run({
        id: record.id,
        name: record.name,
        source_sandbox_id: record.sourceSandboxId,
        backend: record.backend,
        template: JSON.stringify(record.template),
        cpu_count: record.cpuCount,
        memory_mib: record.memoryMiB,
        pids_limit: record.pidsLimit,
        env_vars: JSON.stringify(record.envVars),
        size_bytes: record.sizeBytes,
        created_at_ms: record.createdAtMs,
      });
    })();
  }

  async getSnapshot(idOrName: string): Promise<SnapshotRecord | undefined> {
    const row = (this.sql('SELECT * FROM snapshots WHERE id = ?').get(idOrName) ?? this.sql('SELECT * FROM snapshots WHERE name = ?').get(idOrName)) as SnapshotRow | undefined;
    return row ? toSnapshot(row) : undefined;
  }

  async listSnapshots(query: SnapshotListQuery): Promise<SnapshotRecord[]> {
    const where: string[] = [];
    const params: Record<string, unknown> = {};
    if (query.sourceSandboxId !== undefined) {
      where.push('source_sandbox_id = @source');
      params['source'] = query.sourceSandboxId;
    }
    if (query.idOrName !== undefined) {
      where.push('(id = @idOrName OR name = @idOrName)');
      params['idOrName'] = query.idOrName;
    }
    if (query.after) {
      where.push('(created_at_ms > @afterMs OR (created_at_ms = @afterMs AND id > @afterId))');
      params['afterMs'] = query.after.createdAtMs;
      params['afterId'] = query.after.id;
    }
    const limit = query.limit !== undefined ? ` LIMIT ${Math.max(0, Math.floor(query.limit))}` : '';
    const sql = `SELECT * FROM snapshots ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at_ms, id${limit}`;
    return (this.db.prepare(sql).all(params) as SnapshotRow[]).map(toSnapshot);
  }

  async deleteSnapshot(id: string): Promise<boolean> {
    return this.sql('DELETE FROM snapshots WHERE id = ?').run(id).changes > 0;
  }

  async insertApiKey(record: ApiKeyRecord): Promise<void> {
    this.sql('INSERT INTO api_keys (id, key_hash, prefix, created_at_ms) VALUES (?, ?, ?, ?)')
      .run(record.id, record.keyHash, record.prefix, record.createdAtMs);
  }

  async findApiKeyByHash(keyHash: string): Promise<ApiKeyRecord | undefined> {
    const row = this.sql('SELECT * FROM api_keys WHERE key_hash = ?').get(keyHash) as
      | { id: string; key_hash: string; prefix: string; created_at_ms: number }
      | undefined;
    return row ? { id: row.id, keyHash: row.key_hash, prefix: row.prefix, createdAtMs: row.created_at_ms } : undefined;
  }

  async countApiKeys(): Promise<number> {
    return (this.sql('SELECT COUNT(*) AS n FROM api_keys').get() as { n: number }).n;
  }

  async setPoolTarget(record: PoolTargetRecord): Promise<void> {
    this.sql('INSERT INTO pool_targets (template_id, target) VALUES (?, ?) ON CONFLICT(template_id) DO UPDATE SET target = excluded.target')
      .run(record.templateId, record.target);
  }

  async listPoolTargets(): Promise<PoolTargetRecord[]> {
    const rows = this.sql('SELECT template_id, target FROM pool_targets ORDER BY template_id').all() as Array<{ template_id: string; target: number }>;
    return rows.map((row) => ({ templateId: row.template_id, target: row.target }));
  }

  async appendEvent(event: EventRecord): Promise<void> {
    this.sql('INSERT INTO events (at_ms, sandbox_id, type, detail) VALUES (?, ?, ?, ?)')
      .run(event.atMs, event.sandboxId, event.type, JSON.stringify(event.detail));
  }

  async listEvents(sandboxId: string | null, limit: number): Promise<EventRecord[]> {
    const rows = (
      sandboxId === null
        ? this.sql('SELECT * FROM events ORDER BY id DESC LIMIT ?').all(limit)
        : this.sql('SELECT * FROM events WHERE sandbox_id = ? ORDER BY id DESC LIMIT ?').all(sandboxId, limit)
    ) as Array<{ at_ms: number; sandbox_id: string | null; type: string; detail: string }>;
    return rows.map((row) => ({
      atMs: row.at_ms,
      sandboxId: row.sandbox_id,
      type: row.type,
      detail: JSON.parse(row.detail) as Record<string, unknown>,
    }));
  }

  async putSecret(record: SecretRecord): Promise<void> {
    this.sql(
      `INSERT INTO secrets (name, sealed, created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?)
       ON CONFLICT(name) DO UPDATE SET sealed = excluded.sealed, updated_at_ms = excluded.updated_at_ms`,
    ).run(record.name, record.sealed, record.createdAtMs, record.updatedAtMs);
  }

  async getSecret(name: string): Promise<SecretRecord | undefined> {
    const row = this.sql('SELECT * FROM secrets WHERE name = ?').get(name) as SecretRow | undefined;
    return row ? toSecret(row) : undefined;
  }

  async listSecrets(): Promise<SecretRecord[]> {
    return (this.sql('SELECT * FROM secrets ORDER BY name').all() as SecretRow[]).map(toSecret);
  }

  async deleteSecret(name: string): Promise<boolean> {
    return this.sql('DELETE FROM secrets WHERE name = ?').run(name).changes > 0;
  }

  async appendEgressEvent(event: EgressEventRecord): Promise<void> {
    this.sql('INSERT INTO egress_events (at_ms, sandbox_id, action, protocol, host, address, port, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(event.atMs, event.sandboxId, event.action, event.protocol, event.host, event.address, event.port, event.reason);
  }

  async listEgressEvents(sandboxId: string, limit: number): Promise<EgressEventRecord[]> {
    const rows = this.sql('SELECT * FROM egress_events WHERE sandbox_id = ? ORDER BY id DESC LIMIT ?').all(sandboxId, limit) as EgressEventRow[];
    return rows.map((row) => ({
      atMs: row.at_ms,
      sandboxId: row.sandbox_id,
      action: row.action === 'allow' ? 'allow' : 'deny',
      protocol: row.protocol,
      host: row.host,
      address: row.address,
      port: row.port,
      reason: row.reason,
    }));
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
