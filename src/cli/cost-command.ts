// `hearth cost`: requests per second, compute hours and cost per day and month at a fast and a slow sandbox start, and a warm pool's break-even.
import { parseArgs } from 'node:util';
import { InvalidArgumentError } from '../errors/hearth-error.js';
import { formatCount, parseAmount, parseCount } from '../insight/count-units.js';
import { DAYS_PER_MONTH, costReport, type CostInputs, type CostReport, type StartCost } from '../insight/cost-model.js';
import { formatDuration, formatMs, formatNumber, parseDurationMs, parseRatePerSecond } from '../insight/duration-units.js';
import { loadMeasuredStarts, type MeasuredStarts } from '../insight/start-sources.js';
import { apiClientOptions } from './api-client.js';
import { MODEL_COMMON_OPTIONS, normalizeModelArgv, parseOrUsageError, runWithUsageErrors } from './model-command-input.js';
import { formatTable } from './format-table.js';

const DEFAULT_FAST = '27ms';
const DEFAULT_SLOW = '150ms';
const DEFAULT_VCPUS = '2';
const DEFAULT_MEMORY_GIB = '0.5';

const HELP = `usage: hearth cost --per-day COUNT --exec DURATION [--vcpu-price RATE] [--mem-price RATE]
                   [--vcpus ${DEFAULT_VCPUS}] [--mem-gib ${DEFAULT_MEMORY_GIB}] [--pool N] [--idle-mem-gib GIB]
                   [--start-fast ${DEFAULT_FAST}] [--start-slow ${DEFAULT_SLOW}] [--measured [BENCH.json]] [--json]

What a workload costs with a fast and a slow sandbox start, and whether a warm pool pays for itself.

  --per-day COUNT       invocations per day: 1M, 10M, 250k, 1.5k or a plain number
  --exec DURATION       average execution time per invocation: 2s, 500ms (a bare number is milliseconds)
  --vcpu-price RATE     price per vCPU-second or vCPU-hour: 0.000014/s or 0.05/h
  --mem-price RATE      price per GiB-second or GiB-hour: 0.0000015/s or 0.0054/h
                        (without either price only times are shown; a missing one counts as 0)
  --vcpus N             vCPUs per sandbox (default ${DEFAULT_VCPUS}, Hearth's default limit)
  --mem-gib GIB         memory per sandbox in GiB (default ${DEFAULT_MEMORY_GIB}, Hearth's default limit)
  --pool N              warm pool size (default 0)
  --idle-mem-gib GIB    memory a frozen pooled sandbox is charged for (default: --mem-gib)
  --start-fast D        the fast start, e.g. a pool hit (default ${DEFAULT_FAST}, or the measured pool-hit p50)
  --start-slow D        the slow start, e.g. a cold start (default ${DEFAULT_SLOW}, or the measured cold p50)
  --measured [FILE]     take both starts (p50) from this server's /admin/stats or a \`hearth bench\` JSON
  --json                machine-readable output

Formulas (N invocations/day, E exec time and s start time in seconds, V vCPUs, G GiB, Pc vCPU price/s, Pg GiB price/s,
P pool size, Gi idle GiB per pooled sandbox):
  requests per second        = N / 86400
  sandbox-hours per day      = N × (E + s) / 3600          (vCPU-hours × V, GiB-hours × G)
  busy sandboxes (mean)      = N / 86400 × (E + s)
  cost per day               = N × (E + s) × (V × Pc + G × Pg);  per month = ${DAYS_PER_MONTH} × per day
  time saved per day         = N × (s_slow − s_fast) / 3600
  pool idle cost per day     = P × Gi × Pg × 86400          (frozen pooled sandboxes use memory, not CPU)
  break-even invocations/day = pool idle cost per day / ((s_slow − s_fast) × (V × Pc + G × Pg))
  largest pool that pays     = saving per day / (Gi × Pg × 86400)

Worked examples:
  hearth cost --per-day 1M --exec 2s
  1M/day ≈ 11.6 req/s; a faster start saves 123 ms × 1M/day = 34.2 h/day of sandbox time
  hearth cost --per-day 1M --exec 2s --vcpu-price 0.000014/s --mem-price 0.0000015/s --pool 20
  cost per day 58.28 with a 27 ms start and 61.81 with a 150 ms start; the 20-sandbox pool idles
  for 1.3/day and pays for itself above 366k invocations a day
`;

const VALUE_FLAGS = new Set(['per-day', 'exec', 'vcpu-price', 'mem-price', 'vcpus', 'mem-gib', 'pool', 'idle-mem-gib', 'start-fast', 'start-slow', 'measured', 'url', 'api-key']);

function parseFlags(argv: string[]) {
  return parseOrUsageError(() =>
    parseArgs({
      args: normalizeModelArgv(argv, VALUE_FLAGS),
      options: {
        'per-day': { type: 'string' },
        exec: { type: 'string' },
        'vcpu-price': { type: 'string' },
        'mem-price': { type: 'string' },
        vcpus: { type: 'string', default: DEFAULT_VCPUS },
        'mem-gib': { type: 'string', default: DEFAULT_MEMORY_GIB },
        pool: { type: 'string', default: '0' },
        'idle-mem-gib': { type: 'string' },
        'start-fast': { type: 'string' },
        'start-slow': { type: 'string' },
        ...MODEL_COMMON_OPTIONS,
      },
      strict: true,
    }).values,
  );
}

interface ChosenStart {
  ms: number;
  origin: string;
}

function chooseStart(flagText: string | undefined, flag: string, measured: MeasuredStarts | undefined, key: 'poolHit' | 'cold', fallback: string): ChosenStart {
  if (flagText !== undefined) return { ms: parseDurationMs(flagText, flag), origin: flag };
  if (!measured) return { ms: parseDurationMs(fallback, flag), origin: 'default' };
  const start = measured.starts[key];
  if (!start) throw new InvalidArgumentError(`${measured.source} has no ${key === 'poolHit' ? 'pool-hit' : 'cold'} starts: pass ${flag}`);
  return { ms: start.p50Ms, origin: `${key === 'poolHit' ? 'pool hit' : 'cold'} p50, ${measured.source}` };
}

/** Money without a currency: prices are in whatever currency they were typed in. */
function formatMoney(value: number | undefined): string {
  if (value === undefined) return '-';
  if (!Number.isFinite(value)) return value > 0 ? '∞' : '-∞';
  if (value === 0) return '0';
  if (Math.abs(value) >= 1) return value.toFixed(2);
  // Three significant digits without exponent notation: 0.0648, 0.00000354.
  const decimals = Math.min(20, Math.ceil(-Math.log10(Math.abs(value))) + 2);
  return value.toFixed(decimals).replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
}

function startRow(label: string, cost: StartCost): string[] {
  return [
    label,
    formatMs(cost.startMs),
    formatNumber(cost.sandboxHoursPerDay),
    formatNumber(cost.vcpuHoursPerDay),
    formatNumber(cost.busySandboxes),
    formatMoney(cost.costPerDay),
    formatMoney(cost.costPerMonth),
  ];
}

function formatText(inputs: CostInputs, report: CostReport, fast: ChosenStart, slow: ChosenStart): string {
  const out: string[] = [];
  const perDay = formatCount(inputs.invocationsPerDay);
  out.push(`${perDay} invocations/day ≈ ${formatNumber(report.requestsPerSecond)} req/s; ${formatDuration(inputs.execMs)} average execution; ${formatNumber(inputs.vcpusPerSandbox, 2)} vCPUs and ${formatNumber(inputs.memoryGiB, 3)} GiB per sandbox`);
  out.push(inputs.prices
    ? `prices: ${formatMoney(inputs.prices.vcpuPerSecond)} per vCPU-second (${formatMoney(inputs.prices.vcpuPerSecond * 3600)}/h), ${formatMoney(inputs.prices.gibPerSecond)} per GiB-second (${formatMoney(inputs.prices.gibPerSecond * 3600)}/h)`
    : 'prices: none given (pass --vcpu-price and --mem-price for costs)');
  out.push('');
  out.push(formatTable(
    ['start', 'start time', 'sandbox-h/day', 'vCPU-h/day', 'busy sandboxes', 'cost/day', `cost/month (${DAYS_PER_MONTH} d)`],
    [startRow(`fast (${fast.origin})`, report.fast), startRow(`slow (${slow.origin})`, report.slow)],
  ));
  const { saving, pool } = report;
  const costSaved = saving.costSavedPerDay === undefined ? '' : ` (${formatMoney(saving.costSavedPerDay)}/day, ${formatMoney(saving.costSavedPerMonth)}/month)`;
  out.push(`compute time saved by the faster start: ${formatMs(saving.savedMsPerInvocation)} × ${perDay}/day = ${formatNumber(saving.hoursSavedPerDay)} h/day${costSaved}`);
  if (pool.idleCostPerSandboxPerDay === undefined) {
    const size = pool.poolSize > 0 ? `${pool.poolSize} sandboxes × ${formatNumber(inputs.idleMemoryGiB, 3)} GiB idle = ${formatNumber(pool.idleGibHoursPerDay)} GiB-h/day (frozen: memory only)` : 'none given (--pool N)';
    out.push(`warm pool: ${size}; its break-even needs --mem-price`);
  } else {
    out.push(`warm pool: each frozen sandbox costs ${formatMoney(pool.idleCostPerSandboxPerDay)}/day idle (memory only)${pool.poolSize > 0 ? `; a pool of ${pool.poolSize} costs ${formatMoney(pool.idleCostPerDay)}/day` : ''}`);
    out.push(`a pool hit saves ${formatMoney(pool.savingPerInvocation)} per invocation; at ${perDay}/day a pool of up to ${pool.largestPoolThatPays === Number.POSITIVE_INFINITY ? 'any size (idle memory is free)' : `${pool.largestPoolThatPays} sandboxes`} pays for itself`);
    if (pool.poolSize > 0) {
      const breakEven = pool.breakEvenInvocationsPerDay === undefined || !Number.isFinite(pool.breakEvenInvocationsPerDay) ? 'never (the fast start saves nothing)' : `above ${formatCount(Math.ceil(pool.breakEvenInvocationsPerDay))} invocations/day`;
      out.push(`break-even: the ${pool.poolSize}-sandbox pool pays for itself ${breakEven}; net ${formatMoney(pool.netSavingPerDay)}/day → ${pool.paysOff ? 'pays off' : 'costs more than it saves'}`);
    }
  }
  return `${out.join('\n')}\n`;
}

/** JSON numbers to 12 significant digits (prices per second are tiny, so no fixed decimals); Infinity, NaN and undefined become null. */
function jsonNumbers(_key: string, value: unknown): unknown {
  if (value === undefined) return null;
  if (typeof value !== 'number') return value;
  return Number.isFinite(value) ? Number(value.toPrecision(12)) : null;
}

async function cost(argv: string[]): Promise<number> {
  const values = parseFlags(argv);
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (values['per-day'] === undefined) throw new InvalidArgumentError('--per-day is required: invocations per day, e.g. --per-day 1M');
  if (values.exec === undefined) throw new InvalidArgumentError('--exec is required: average execution time, e.g. --exec 2s');
  const vcpuPrice = values['vcpu-price'] === undefined ? undefined : parseRatePerSecond(values['vcpu-price'], '--vcpu-price');
  const memPrice = values['mem-price'] === undefined ? undefined : parseRatePerSecond(values['mem-price'], '--mem-price');
  const memoryGiB = parseAmount(values['mem-gib'], '--mem-gib');
  const inputs: CostInputs = {
    invocationsPerDay: parseCount(values['per-day'], '--per-day', { integer: false, allowZero: false }),
    execMs: parseDurationMs(values.exec, '--exec', { allowZero: false }),
    vcpusPerSandbox: parseAmount(values.vcpus, '--vcpus'),
    memoryGiB,
    prices: vcpuPrice === undefined && memPrice === undefined ? undefined : { vcpuPerSecond: vcpuPrice ?? 0, gibPerSecond: memPrice ?? 0 },
    poolSize: parseCount(values.pool, '--pool', { integer: true, allowZero: true }),
    idleMemoryGiB: values['idle-mem-gib'] === undefined ? memoryGiB : parseAmount(values['idle-mem-gib'], '--idle-mem-gib', { allowZero: true }),
  };
  const needsMeasured = values.measured !== undefined && (values['start-fast'] === undefined || values['start-slow'] === undefined);
  const measured = needsMeasured ? await loadMeasuredStarts(values.measured || undefined, () => apiClientOptions(values)) : undefined;
  const fast = chooseStart(values['start-fast'], '--start-fast', measured, 'poolHit', DEFAULT_FAST);
  const slow = chooseStart(values['start-slow'], '--start-slow', measured, 'cold', DEFAULT_SLOW);
  const report = costReport(inputs, fast.ms, slow.ms);
  if (values.json) {
    const json = { inputs, starts: { fast, slow }, ...report, daysPerMonth: DAYS_PER_MONTH };
    process.stdout.write(`${JSON.stringify(json, jsonNumbers, 2)}\n`);
    return 0;
  }
  process.stdout.write(formatText(inputs, report, fast, slow));
  return 0;
}

export async function runCost(argv: string[]): Promise<number> {
  return runWithUsageErrors('cost', () => cost(argv));
}
