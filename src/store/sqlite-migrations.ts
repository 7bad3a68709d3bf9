// Schema migrations for the SQLite store, applied in order; never edit a released entry, append a new one.

export const SQLITE_MIGRATIONS: readonly string[] = [
  `CREATE TABLE sandboxes (
     id TEXT PRIMARY KEY,
     template_id TEXT NOT NULL,
     backend TEXT NOT NULL,
     state TEXT NOT NULL,
     desired_state TEXT NOT NULL,
     metadata TEXT NOT NULL,
     env_vars TEXT NOT NULL,
     access_token TEXT NOT NULL,
     started_at_ms INTEGER NOT NULL,
     end_at_ms INTEGER NOT NULL,
     cpu_count INTEGER NOT NULL,
     memory_mib INTEGER NOT NULL,
     disk_mib INTEGER NOT NULL,
     runtime TEXT NOT NULL,
     ended_at_ms INTEGER,
     end_reason TEXT
   );
   CREATE INDEX sandboxes_state ON sandboxes (state, end_at_ms);
   CREATE TABLE templates (
     id TEXT PRIMARY KEY,
     aliases TEXT NOT NULL,
     rootfs_path TEXT NOT NULL,
     created_at_ms INTEGER NOT NULL,
     cpu_count INTEGER NOT NULL,
     memory_mib INTEGER NOT NULL,
     disk_mib INTEGER NOT NULL,
     size_bytes INTEGER NOT NULL,
     status TEXT NOT NULL
   );
   CREATE TABLE api_keys (
     id TEXT PRIMARY KEY,
     key_hash TEXT NOT NULL UNIQUE,
     prefix TEXT NOT NULL,
     created_at_ms INTEGER NOT NULL
   );
   CREATE TABLE events (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     at_ms INTEGER NOT NULL,
     sandbox_id TEXT,
     type TEXT NOT NULL,
     detail TEXT NOT NULL
   );
   CREATE INDEX events_sandbox ON events (sandbox_id, id);`,
  `CREATE TABLE pool_targets (
     template_id TEXT PRIMARY KEY,
     target INTEGER NOT NULL
   );`,
  `ALTER TABLE templates ADD COLUMN layers TEXT NOT NULL DEFAULT '[]';
   ALTER TABLE templates ADD COLUMN config TEXT NOT NULL DEFAULT '{}';
   ALTER TABLE templates ADD COLUMN build_ms INTEGER NOT NULL DEFAULT 0;
   UPDATE templates SET layers = json_array(rootfs_path);`,
  `ALTER TABLE sandboxes ADD COLUMN pids_limit INTEGER NOT NULL DEFAULT 512;
   ALTER TABLE templates ADD COLUMN pids_limit INTEGER NOT NULL DEFAULT 0;`,
  `ALTER TABLE sandboxes ADD COLUMN network TEXT NOT NULL DEFAULT '{}';
   CREATE TABLE secrets (
     name TEXT PRIMARY KEY,
     sealed TEXT NOT NULL,
     created_at_ms INTEGER NOT NULL,
     updated_at_ms INTEGER NOT NULL
   );
   CREATE TABLE egress_events (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     at_ms INTEGER NOT NULL,
     sandbox_id TEXT NOT NULL,
     action TEXT NOT NULL,
     protocol TEXT NOT NULL,
     host TEXT,
     address TEXT,
     port INTEGER,
     reason TEXT NOT NULL
   );
   CREATE INDEX egress_events_sandbox ON egress_events (sandbox_id, id);`,
  `ALTER TABLE sandboxes ADD COLUMN on_timeout TEXT NOT NULL DEFAULT 'kill';`,
  `CREATE TABLE snapshots (
     id TEXT PRIMARY KEY,
     name TEXT UNIQUE,
     source_sandbox_id TEXT NOT NULL,
     backend TEXT NOT NULL,
     template TEXT NOT NULL,
     cpu_count INTEGER NOT NULL,
     memory_mib INTEGER NOT NULL,
     pids_limit INTEGER NOT NULL,
     env_vars TEXT NOT NULL,
     size_bytes INTEGER NOT NULL,
     created_at_ms INTEGER NOT NULL
   );
   CREATE INDEX snapshots_created ON snapshots (created_at_ms, id);
   CREATE INDEX snapshots_source ON snapshots (source_sandbox_id);`,
];
