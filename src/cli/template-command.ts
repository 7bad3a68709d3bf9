// `hearth template`: build from a Dockerfile (live log), ls, inspect, alias, rm; and build-base for set-up.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { defaultConfig } from '../config/server-config.js';
import { baseTemplatePaths, ensureBaseTemplate } from '../templates/base-template.js';
import { apiClientOptions, apiRequest, type ApiClientOptions } from './api-client.js';
import { formatTable } from './format-table.js';

const USAGE = `usage:
  hearth template build -f Dockerfile -t NAME [CONTEXT_DIR] [--start-cmd CMD] [--ready-cmd CMD] [--build-arg K=V]...
  hearth template ls
  hearth template inspect NAME
  hearth template alias NAME ALIAS
  hearth template rm NAME
  hearth template build-base [--templates-dir DIR]
(all but build-base talk to a running server: --url, --api-key or HEARTH_URL, HEARTH_API_KEY)
`;

interface TemplateView {
  templateID: string;
  aliases: string[];
  sizeBytes: number;
  buildMs: number;
  layers: number;
  cpuCount: number;
  memoryMB: number;
  createdAt: string;
  config: Record<string, unknown>;
}

interface JobView {
  buildID: string;
  status: string;
  error: string | null;
  cachedSteps: number;
  builtSteps: number;
}

async function streamLogs(client: ApiClientOptions, buildId: string): Promise<void> {
  const response = await fetch(`${client.url}/admin/templates/builds/${buildId}/logs`, { headers: { 'x-api-key': client.apiKey } });
  if (!response.body) return;
  const decoder = new TextDecoder();
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) process.stdout.write(decoder.decode(chunk, { stream: true }));
}

async function build(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      file: { type: 'string', short: 'f' },
      tag: { type: 'string', short: 't' },
      'start-cmd': { type: 'string' },
      'ready-cmd': { type: 'string' },
      'build-arg': { type: 'string', multiple: true },
      url: { type: 'string' },
      'api-key': { type: 'string' },
    },
    allowPositionals: true,
    strict: true,
  });
  const contextDir = path.resolve(positionals[0] ?? '.');
  const dockerfilePath = path.resolve(contextDir, values.file ?? 'Dockerfile');
  if (!values.tag) throw new Error('-t NAME is required');
  let dockerfile: string;
  try {
    dockerfile = readFileSync(dockerfilePath, 'utf8');
  } catch (error) {
    throw new Error(`cannot read ${dockerfilePath}: ${(error as Error).message}`);
  }
  const buildArgs: Record<string, string> = {};
  for (const pair of values['build-arg'] ?? []) {
    const [key, ...rest] = pair.split('=');
    if (!key || rest.length === 0) throw new Error(`--build-arg expects K=V, got "${pair}"`);
    buildArgs[key] = rest.join('=');
  }
  const client = apiClientOptions(values);
  const job = await apiRequest<JobView>(client, 'POST', '/admin/templates/builds', {
    name: values.tag,
    dockerfile,
    contextDir,
    buildArgs,
    startCmd: values['start-cmd'],
    readyCmd: values['ready-cmd'],
  });
  await streamLogs(client, job.buildID);
  const finished = await apiRequest<JobView>(client, 'GET', `/admin/templates/builds/${job.buildID}`);
  if (finished.status !== 'ready') {
    process.stderr.write(`hearth: build ${finished.buildID} failed: ${finished.error ?? 'unknown error'}\n`);
    return 1;
  }
  return 0;
}

export async function runTemplate(argv: string[]): Promise<number> {
  const [subcommand, ...rest] = argv;
  if (subcommand === 'build-base') {
    const { values } = parseArgs({ args: rest, options: { 'templates-dir': { type: 'string' } }, strict: true });
    const templatesDir = values['templates-dir'] ?? defaultConfig().templatesDir;
    const manifest = await ensureBaseTemplate(templatesDir, (line) => process.stdout.write(`${line}\n`));
    process.stdout.write(`base template: ${baseTemplatePaths(templatesDir).dir} (${(manifest.sizeBytes / 1048576).toFixed(0)} MiB, built ${new Date(manifest.builtAtMs).toISOString()})\n`);
    return 0;
  }
  if (subcommand === 'build') return build(rest);
  const { values, positionals } = parseArgs({ args: rest, options: { url: { type: 'string' }, 'api-key': { type: 'string' }, json: { type: 'boolean', default: false } }, allowPositionals: true, strict: true });
  const client = apiClientOptions(values);
  const [name, alias] = positionals;
  switch (subcommand) {
    case 'ls': {
      const templates = await apiRequest<TemplateView[]>(client, 'GET', '/templates');
      if (values.json) process.stdout.write(`${JSON.stringify(templates, null, 2)}\n`);
      else process.stdout.write(formatTable(['template', 'aliases', 'size', 'layers', 'build', 'created'], templates.map((t) => [t.templateID, t.aliases.join(','), `${(t.sizeBytes / 1048576).toFixed(1)} MiB`, String(t.layers), `${(t.buildMs / 1000).toFixed(1)} s`, t.createdAt])));
      return 0;
    }
    case 'inspect':
      if (!name) break;
      process.stdout.write(`${JSON.stringify(await apiRequest<TemplateView>(client, 'GET', `/templates/${encodeURIComponent(name)}`), null, 2)}\n`);
      return 0;
    case 'alias':
      if (!name || !alias) break;
      await apiRequest(client, 'POST', `/admin/templates/${encodeURIComponent(name)}/aliases`, { alias });
      process.stdout.write(`${alias} → ${name}\n`);
      return 0;
    case 'rm':
      if (!name) break;
      await apiRequest(client, 'DELETE', `/templates/${encodeURIComponent(name)}`);
      process.stdout.write(`deleted ${name}\n`);
      return 0;
    default:
      break;
  }
  process.stderr.write(USAGE);
  return 2;
}
