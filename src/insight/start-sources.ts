// Measured sandbox start times for `hearth budget` and `hearth cost`: from a running server's /admin/stats or a `hearth bench` JSON file.
import { readFileSync } from 'node:fs';
import { apiRequest, type ApiClientOptions } from '../cli/api-client.js';
import { InvalidArgumentError } from '../errors/hearth-error.js';
import type { StartPercentiles } from './latency-budget.js';

/** The start-up options `hearth budget` compares; Hearth measures the first two, a bench run the third, nothing the fourth. */
export type StartOptionKey = 'poolHit' | 'cold' | 'gvisor' | 'microvm';

export const START_OPTION_KEYS: readonly StartOptionKey[] = ['poolHit', 'cold', 'gvisor', 'microvm'];

export const START_OPTION_LABELS: Readonly<Record<StartOptionKey, string>> = {
  poolHit: 'pool hit',
  cold: 'cold start (namespaces)',
  gvisor: 'gVisor (runsc floor)',
  microvm: 'microVM restore',
};

/** Names `--compare NAME=DURATION` may use to fill a built-in row instead of adding one. */
export const START_OPTION_ALIASES: Readonly<Record<string, StartOptionKey>> = {
  pool: 'poolHit',
  'pool-hit': 'poolHit',
  pool_hit: 'poolHit',
  cold: 'cold',
  gvisor: 'gvisor',
  runsc: 'gvisor',
  microvm: 'microvm',
  'microvm-restore': 'microvm',
  firecracker: 'microvm',
};

export interface MeasuredStart extends StartPercentiles {
  /** Samples behind the percentiles, when the source says. */
  samples: number | undefined;
}

export interface MeasuredStarts {
  /** Where the numbers came from, for people: "server http://127.0.0.1:3000" or "bench-results/latest.json". */
  source: string;
  starts: Partial<Record<StartOptionKey, MeasuredStart>>;
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function finiteNonNegative(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

/** p50/p95/p99 from an object with p50Ms/p95Ms/p99Ms, or undefined when any is missing (nothing measured). */
function percentilesOf(value: unknown, samplesKey: 'count' | 'runs'): MeasuredStart | undefined {
  if (!isObject(value)) return undefined;
  const { p50Ms, p95Ms, p99Ms } = value;
  if (!finiteNonNegative(p50Ms) || !finiteNonNegative(p95Ms) || !finiteNonNegative(p99Ms)) return undefined;
  const samples = value[samplesKey];
  if (typeof samples === 'number' && samples === 0) return undefined;
  return { p50Ms, p95Ms, p99Ms, samples: typeof samples === 'number' ? samples : undefined };
}

/** Start times from a parsed /admin/stats body (`createLatency.pool_hit` and `.cold`, each {count, p50Ms, p95Ms, p99Ms}). */
export function startsFromAdminStats(body: unknown, source: string): MeasuredStarts {
  const latency = isObject(body) ? body['createLatency'] : undefined;
  if (!isObject(latency)) throw new InvalidArgumentError(`${source} returned no createLatency in /admin/stats: is it a Hearth server?`);
  const starts: MeasuredStarts['starts'] = {};
  const poolHit = percentilesOf(latency['pool_hit'], 'count');
  const cold = percentilesOf(latency['cold'], 'count');
  if (poolHit) starts.poolHit = poolHit;
  if (cold) starts.cold = cold;
  return { source, starts };
}

/** Start times from a parsed `hearth bench` result: createPoolHit, createCold and the runsc floor. */
export function startsFromBench(result: unknown, source: string): MeasuredStarts {
  if (!isObject(result) || !('createPoolHit' in result || 'createCold' in result || 'floors' in result)) {
    throw new InvalidArgumentError(`${source} is not a \`hearth bench\` result: it has none of createPoolHit, createCold, floors`);
  }
  const starts: MeasuredStarts['starts'] = {};
  const poolHit = percentilesOf(result['createPoolHit'], 'runs');
  const cold = percentilesOf(result['createCold'], 'runs');
  const floors = Array.isArray(result['floors']) ? result['floors'] : [];
  const runsc = floors.find((floor): floor is JsonObject => isObject(floor) && floor['name'] === 'runsc');
  const gvisor = runsc ? percentilesOf(runsc['latency'], 'runs') : undefined;
  if (poolHit) starts.poolHit = poolHit;
  if (cold) starts.cold = cold;
  if (gvisor) starts.gvisor = gvisor;
  return { source, starts };
}

export function loadBenchStarts(filePath: string): MeasuredStarts {
  let text: string;
  try {
    text = readFileSync(filePath, 'utf8');
  } catch (error) {
    throw new InvalidArgumentError(`cannot read bench results "${filePath}": ${(error as Error).message}`, { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new InvalidArgumentError(`bench results "${filePath}" are not JSON: ${(error as Error).message}`, { cause: error });
  }
  return startsFromBench(parsed, filePath);
}

export type StatsRequest = (client: ApiClientOptions, method: string, path: string) => Promise<unknown>;

/** Live p50/p95/p99 from a running server's histograms (the most recent 2048 creates per path). */
export async function loadServerStarts(client: ApiClientOptions, request: StatsRequest = apiRequest): Promise<MeasuredStarts> {
  const body = await request(client, 'GET', '/admin/stats');
  return startsFromAdminStats(body, `server ${client.url}`);
}

/** `--measured` with no file reads the server, `--measured FILE` a bench JSON. */
export async function loadMeasuredStarts(file: string | undefined, client: () => ApiClientOptions): Promise<MeasuredStarts> {
  const measured = file ? loadBenchStarts(file) : await loadServerStarts(client());
  if (Object.keys(measured.starts).length === 0) {
    throw new InvalidArgumentError(`${measured.source} has no measured sandbox starts yet (create some sandboxes, or run \`hearth bench\`)`);
  }
  return measured;
}
