// `hearth snapshot create SANDBOX_ID [--name N]`, `hearth snapshot ls [--sandbox ID]`, `hearth snapshot rm ID_OR_NAME`.
import { parseArgs } from 'node:util';
import { apiClientOptions, apiRequest } from './api-client.js';
import { formatTable } from './format-table.js';

const USAGE = 'usage: hearth snapshot create SANDBOX_ID [--name NAME] | hearth snapshot ls [--sandbox SANDBOX_ID] | hearth snapshot rm ID_OR_NAME   [--url URL] [--api-key KEY] [--json]\n';

interface SnapshotView {
  snapshotID: string;
  names: string[];
  sandboxID: string;
  templateID: string;
  backend: string;
  sizeBytes: number;
  createdAt: string;
}

export async function runSnapshot(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { url: { type: 'string' }, 'api-key': { type: 'string' }, name: { type: 'string' }, sandbox: { type: 'string' }, json: { type: 'boolean', default: false } },
    allowPositionals: true,
    strict: true,
  });
  const [subcommand, target] = positionals;
  const client = apiClientOptions(values);
  if (subcommand === 'create' && target) {
    const snapshot = await apiRequest<SnapshotView>(client, 'POST', `/sandboxes/${encodeURIComponent(target)}/snapshots`, values.name === undefined ? {} : { name: values.name });
    if (values.json) process.stdout.write(`${JSON.stringify(snapshot, null, 2)}\n`);
    else process.stdout.write(`${snapshot.snapshotID}${snapshot.names.length > 0 ? ` (${snapshot.names.join(', ')})` : ''}: start sandboxes from it with Sandbox.create('${snapshot.names[0] ?? snapshot.snapshotID}')\n`);
    return 0;
  }
  if (subcommand === 'rm' && target) {
    await apiRequest<void>(client, 'DELETE', `/snapshots/${encodeURIComponent(target)}`);
    process.stdout.write(`snapshot ${target} deleted\n`);
    return 0;
  }
  if (subcommand === 'ls' || subcommand === 'list') {
    const query = values.sandbox === undefined ? '' : `?sandboxID=${encodeURIComponent(values.sandbox)}`;
    const snapshots = await apiRequest<SnapshotView[]>(client, 'GET', `/snapshots${query}`);
    if (values.json) process.stdout.write(`${JSON.stringify(snapshots, null, 2)}\n`);
    else {
      const rows = snapshots.map((snapshot) => [snapshot.snapshotID, snapshot.names.join(','), snapshot.sandboxID, snapshot.templateID, snapshot.backend, `${(snapshot.sizeBytes / 1024 / 1024).toFixed(1)}`, snapshot.createdAt]);
      process.stdout.write(formatTable(['id', 'name', 'from sandbox', 'template', 'backend', 'MiB', 'created'], rows));
    }
    return 0;
  }
  process.stderr.write(USAGE);
  return 2;
}
