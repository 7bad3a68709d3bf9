// `hearth pool ls` and `hearth pool set TEMPLATE SIZE` against a running server.
import { parseArgs } from 'node:util';
import type { PoolStats } from '../core/pool-manager.js';
import { apiClientOptions, apiRequest } from './api-client.js';
import { formatTable } from './format-table.js';

const USAGE = 'usage: hearth pool ls | hearth pool set TEMPLATE SIZE   [--url URL] [--api-key KEY] [--json]\n';

export async function runPool(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { url: { type: 'string' }, 'api-key': { type: 'string' }, json: { type: 'boolean', default: false } },
    allowPositionals: true,
    strict: true,
  });
  const [subcommand, templateId, sizeText] = positionals;
  const client = apiClientOptions(values);
  let pools: PoolStats[];
  if (subcommand === 'ls' || subcommand === 'list') {
    pools = await apiRequest<PoolStats[]>(client, 'GET', '/admin/pools');
  } else if (subcommand === 'set' && templateId && sizeText !== undefined) {
    const size = Number(sizeText);
    if (!Number.isInteger(size) || size < 0) {
      process.stderr.write(`pool size must be a non-negative integer, got "${sizeText}"\n`);
      return 2;
    }
    pools = [await apiRequest<PoolStats>(client, 'PUT', `/admin/pools/${encodeURIComponent(templateId)}`, { target: size })];
  } else {
    process.stderr.write(USAGE);
    return 2;
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify(pools, null, 2)}\n`);
    return 0;
  }
  process.stdout.write(
    formatTable(
      ['template', 'target', 'ready', 'starting', 'claims', 'misses'],
      pools.map((pool) => [pool.templateId, pool.target, pool.ready, pool.starting, pool.claims, pool.misses].map(String)),
    ),
  );
  return 0;
}
