// Turns `hearth serve` flags and an optional JSON config file into a ServerConfig.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { defaultConfig, type ServerConfig } from '../config/server-config.js';
import { parseBackendKind } from '../backends/backend-kinds.js';

export interface ServeOptions {
  config: ServerConfig;
  killOnExit: boolean;
  quiet: boolean;
}

function parsePoolFlag(value: string): [string, number] {
  const match = /^([A-Za-z0-9._-]+)=(\d+)$/.exec(value);
  if (!match?.[1] || match[2] === undefined) throw new Error(`--pool expects TEMPLATE=SIZE (e.g. base=8), got "${value}"`);
  return [match[1], Number(match[2])];
}

function readConfigFile(file: string): { pools?: Record<string, number>; port?: number; host?: string; dataDir?: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read config file ${file}: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null) throw new Error(`config file ${file} must hold a JSON object`);
  const config = parsed as Record<string, unknown>;
  const pools = config['pools'];
  if (pools !== undefined && (typeof pools !== 'object' || pools === null || Object.values(pools).some((v) => !Number.isInteger(v) || (v as number) < 0))) {
    throw new Error(`config file ${file}: "pools" must map template names to non-negative integers`);
  }
  return config as { pools?: Record<string, number> };
}

export function parseServeOptions(argv: string[]): ServeOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'data-dir': { type: 'string' },
      'templates-dir': { type: 'string' },
      config: { type: 'string' },
      pool: { type: 'string', multiple: true },
      'kill-on-exit': { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
      'sandbox-disk-gb': { type: 'string' },
      'no-sandbox-disk': { type: 'boolean', default: false },
      backend: { type: 'string' },
      network: { type: 'string' },
      bridge: { type: 'string' },
      'sandbox-subnet': { type: 'string' },
      'dns-host': { type: 'string', multiple: true },
      'secrets-key-file': { type: 'string' },
      'sandbox-domain': { type: 'string' },
    },
    strict: true,
  });
  const file = values.config ? readConfigFile(values.config) : {};
  const portText = values.port ?? process.env['HEARTH_PORT'] ?? String(file.port ?? 3000);
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0..65535, got "${portText}"`);
  const dataDir = values['data-dir'] ?? file.dataDir;
  const base = defaultConfig(dataDir ? { dataDir } : {});
  const poolTargets: Record<string, number> = { ...(file.pools ?? {}) };
  for (const flag of values.pool ?? []) {
    const [templateId, size] = parsePoolFlag(flag);
    poolTargets[templateId] = size;
  }
  const diskText = values['sandbox-disk-gb'];
  const sandboxDiskGiB = diskText === undefined ? base.sandboxDiskGiB : Number(diskText);
  if (!Number.isInteger(sandboxDiskGiB) || sandboxDiskGiB < 1 || sandboxDiskGiB > 1 << 20) throw new Error(`--sandbox-disk-gb must be a whole number of GiB from 1, got "${diskText}"`);
  const network = values.network ?? base.network;
  if (network !== 'bridged' && network !== 'none') throw new Error(`--network must be bridged or none, got "${network}"`);
  return {
    config: {
      ...base,
      network,
      ...(values.bridge ? { networkBridge: values.bridge } : {}),
      ...(values['sandbox-subnet'] ? { sandboxSubnet: values['sandbox-subnet'] } : {}),
      ...(values['dns-host'] ? { dnsHosts: [base.dnsHosts, ...values['dns-host']].join(' ').trim() } : {}),
      ...(values['secrets-key-file'] ? { secretsKeyFile: values['secrets-key-file'] } : {}),
      ...(values['sandbox-domain'] ? { sandboxDomain: values['sandbox-domain'] } : {}),
      sandboxDiskGiB,
      ...(values.backend ? { backend: parseBackendKind(values.backend, '--backend') } : {}),
      sandboxDiskLimits: base.sandboxDiskLimits && !values['no-sandbox-disk'],
      host: values.host ?? process.env['HEARTH_HOST'] ?? file.host ?? base.host,
      port,
      poolTargets,
      ...(values['templates-dir'] ? { templatesDir: values['templates-dir'] } : {}),
    },
    killOnExit: values['kill-on-exit'],
    quiet: values.quiet,
  };
}
