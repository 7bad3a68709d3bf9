// `hearth secret set NAME` (value from --value or stdin), `hearth secret ls`, `hearth secret rm NAME`.
import { parseArgs } from 'node:util';
import type { SecretSummary } from '../secrets/secret-service.js';
import { apiClientOptions, apiRequest } from './api-client.js';
import { formatTable } from './format-table.js';

const USAGE = 'usage: hearth secret set NAME [--value VALUE | < file] | hearth secret ls | hearth secret rm NAME   [--url URL] [--api-key KEY]\n';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\n$/, '');
}

export async function runSecret(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { url: { type: 'string' }, 'api-key': { type: 'string' }, value: { type: 'string' }, json: { type: 'boolean', default: false } },
    allowPositionals: true,
    strict: true,
  });
  const [subcommand, name] = positionals;
  const client = apiClientOptions(values);
  if (subcommand === 'set' && name) {
    const value = values.value ?? (await readStdin());
    await apiRequest<SecretSummary>(client, 'PUT', `/secrets/${encodeURIComponent(name)}`, { value });
    process.stdout.write(`secret ${name} stored (sealed; grant it with "secrets": ["${name}"] at create)\n`);
    return 0;
  }
  if (subcommand === 'rm' && name) {
    await apiRequest<void>(client, 'DELETE', `/secrets/${encodeURIComponent(name)}`);
    process.stdout.write(`secret ${name} deleted and revoked from every sandbox\n`);
    return 0;
  }
  if (subcommand === 'ls' || subcommand === 'list') {
    const secrets = await apiRequest<SecretSummary[]>(client, 'GET', '/secrets');
    if (values.json) process.stdout.write(`${JSON.stringify(secrets, null, 2)}\n`);
    else process.stdout.write(formatTable(['name', 'updated'], secrets.map((secret) => [secret.name, new Date(secret.updatedAtMs).toISOString()])));
    return 0;
  }
  process.stderr.write(USAGE);
  return 2;
}
