// `hearth egress SANDBOX`: a sandbox's egress audit log (every connection and lookup, allowed or denied).
import { parseArgs } from 'node:util';
import type { EgressEventRecord } from '../store/store.js';
import { apiClientOptions, apiRequest } from './api-client.js';
import { formatTable } from './format-table.js';

const USAGE = 'usage: hearth egress SANDBOX_ID [--limit N] [--url URL] [--api-key KEY] [--json]\n';

export async function runEgress(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { url: { type: 'string' }, 'api-key': { type: 'string' }, json: { type: 'boolean', default: false }, limit: { type: 'string', default: '100' } },
    allowPositionals: true,
    strict: true,
  });
  const [sandboxId] = positionals;
  if (!sandboxId || positionals.length > 1) {
    process.stderr.write(USAGE);
    return 2;
  }
  const events = await apiRequest<Array<EgressEventRecord & { at: string }>>(
    apiClientOptions(values),
    'GET',
    `/sandboxes/${encodeURIComponent(sandboxId)}/egress?limit=${encodeURIComponent(values.limit)}`,
  );
  if (values.json) {
    process.stdout.write(`${JSON.stringify(events, null, 2)}\n`);
    return 0;
  }
  process.stdout.write(
    formatTable(
      ['time', 'action', 'protocol', 'host', 'destination', 'reason'],
      events.map((event) => [
        event.at,
        event.action,
        event.protocol,
        event.host ?? '-',
        event.address ? `${event.address}${event.port ? `:${event.port}` : ''}` : '-',
        event.reason,
      ]),
    ),
  );
  return 0;
}
