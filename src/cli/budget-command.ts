// `hearth budget`: splits an end-to-end latency target and shows what each sandbox start-up option leaves for inference.
import { parseArgs } from 'node:util';
import { InvalidArgumentError } from '../errors/hearth-error.js';
import { formatMs, formatNumber, parseDurationMs } from '../insight/duration-units.js';
import {
  COMPONENTS,
  COMPONENT_LABELS,
  DEFAULT_SPLIT,
  PERCENTILES,
  checkStartOption,
  describeTargetMinusStart,
  describeVerdict,
  fixedStart,
  makeBudget,
  parseSplit,
  type LatencyBudget,
  type StartCheck,
  type StartOptionCheck,
  type StartPercentiles,
} from '../insight/latency-budget.js';
import { START_OPTION_ALIASES, START_OPTION_KEYS, START_OPTION_LABELS, loadMeasuredStarts, type MeasuredStarts, type StartOptionKey } from '../insight/start-sources.js';
import { apiClientOptions } from './api-client.js';
import { MODEL_COMMON_OPTIONS, normalizeModelArgv, parseOrUsageError, runWithUsageErrors } from './model-command-input.js';
import { formatTable } from './format-table.js';

const HELP = `usage: hearth budget --target 200ms (--start 27ms | --measured [BENCH.json]) [--split 30/25/35/10]
                     [--compare [NAME=]DURATION]... [--json] [--url URL] [--api-key KEY]

Splits an end-to-end latency target across context gathering, sandbox start, model inference and
orchestration, then checks sandbox start times against it at p50, p95 and p99.

  --target DURATION     the end-to-end target, e.g. 200ms or 0.2s (a bare number is milliseconds)
  --split C/S/I/O       shares in percent of context, sandbox start, inference, orchestration;
                        they must sum to 100 (default ${COMPONENTS.map((component) => DEFAULT_SPLIT[component]).join('/')})
  --start DURATION      a fixed sandbox start time
  --measured            p50/p95/p99 from this Hearth's live histograms (GET /admin/stats on --url)
  --measured FILE       p50/p95/p99 from a \`hearth bench\` JSON (pool hit, cold, gVisor floor)
  --compare [NAME=]D    another start time to compare, repeatable; NAME pool, cold, gvisor or microvm
                        fills that row of the comparison instead of adding one
  --json                machine-readable output

Formulas (T target, s sandbox start at a percentile):
  budget(component)  = T × share / 100
  target − start     = T − s
  left for inference = T − budget(context) − budget(orchestration) − s
  a start blows the budget when s > budget(sandbox start) or nothing is left for inference

Worked example:
  hearth budget --target 200ms --start 27ms --compare 150ms
  a 200 ms target leaves 173 ms for inference with a 27 ms start and 50 ms with a 150 ms start
  (target − start). With the default split, context (60 ms) and orchestration (20 ms) come off
  too: inference gets 93 ms with the 27 ms start and -30 ms with the 150 ms start, which blows
  the budget, as does a 150 ms start against its 50 ms share.
`;

const VALUE_FLAGS = new Set(['target', 'split', 'start', 'measured', 'compare', 'url', 'api-key']);

function parseFlags(argv: string[]) {
  return parseOrUsageError(() =>
    parseArgs({
      args: normalizeModelArgv(argv, VALUE_FLAGS),
      options: {
        target: { type: 'string' },
        split: { type: 'string' },
        start: { type: 'string' },
        compare: { type: 'string', multiple: true },
        ...MODEL_COMMON_OPTIONS,
      },
      strict: true,
    }).values,
  );
}

type RowSource = 'fixed' | 'measured' | 'not measured';

interface StartRow {
  key: StartOptionKey | 'start' | 'compare';
  label: string;
  source: RowSource;
  /** Where measured numbers came from, or the flag that gave a fixed one. */
  origin: string;
  starts: StartPercentiles | undefined;
  check: StartOptionCheck | undefined;
}

interface Compare {
  name: string | undefined;
  startMs: number;
  text: string;
}

function parseCompare(text: string): Compare {
  const equals = text.indexOf('=');
  const name = equals >= 0 ? text.slice(0, equals).trim() : undefined;
  if (name === '') throw new InvalidArgumentError(`--compare NAME=DURATION needs a name before "=", got "${text}"`);
  const durationText = equals >= 0 ? text.slice(equals + 1) : text;
  return { name, startMs: parseDurationMs(durationText, '--compare'), text };
}

function buildRows(budget: LatencyBudget, measured: MeasuredStarts | undefined, fixedStartMs: number | undefined, compares: Compare[]): StartRow[] {
  const given = new Map<StartOptionKey, Compare>();
  const extra: Compare[] = [];
  for (const compare of compares) {
    const key = compare.name === undefined ? undefined : START_OPTION_ALIASES[compare.name.toLowerCase()];
    if (key) given.set(key, compare);
    else extra.push(compare);
  }
  const row = (key: StartRow['key'], label: string, source: RowSource, origin: string, starts: StartPercentiles | undefined): StartRow => ({
    key,
    label,
    source,
    origin,
    starts,
    check: starts ? checkStartOption(budget, starts) : undefined,
  });
  const rows = START_OPTION_KEYS.map((key) => {
    const compare = given.get(key);
    if (compare) return row(key, START_OPTION_LABELS[key], 'fixed', `--compare ${compare.text}`, fixedStart(compare.startMs));
    const start = measured?.starts[key];
    if (start) return row(key, START_OPTION_LABELS[key], 'measured', measured?.source ?? '', start);
    return row(key, START_OPTION_LABELS[key], 'not measured', '', undefined);
  });
  if (fixedStartMs !== undefined) rows.push(row('start', `${formatMs(fixedStartMs)} (--start)`, 'fixed', '--start', fixedStart(fixedStartMs)));
  for (const compare of extra) rows.push(row('compare', compare.name ?? `${formatMs(compare.startMs)} (--compare)`, 'fixed', `--compare ${compare.text}`, fixedStart(compare.startMs)));
  return rows;
}

/** The start the per-percentile table is about: --start, else the measured pool hit, else the measured cold start. */
function primaryRow(rows: StartRow[]): StartRow {
  const primary = rows.find((row) => row.key === 'start') ?? rows.find((row) => row.key === 'poolHit' && row.source === 'measured') ?? rows.find((row) => row.key === 'cold' && row.source === 'measured');
  if (!primary) throw new InvalidArgumentError('the measurements have no pool-hit or cold start: pass --start DURATION as well');
  return primary;
}

/** "27 ms" when p50, p95 and p99 agree, else "21 / 45 / 62 ms". */
const threeValues = (values: number[]): string => (values.every((value) => value === values[0]) ? formatMs(values[0] ?? 0) : `${values.map((value) => formatNumber(value)).join(' / ')} ms`);

function formatText(budget: LatencyBudget, rows: StartRow[], primary: StartRow, summary: string, compareStartsMs: number[]): string {
  const out: string[] = [];
  const { budgetMs } = budget;
  out.push(`latency budget for a ${formatMs(budget.targetMs)} target`);
  out.push('');
  out.push(formatTable(
    ['component', 'share', 'budget'],
    COMPONENTS.map((component) => [COMPONENT_LABELS[component], `${formatNumber(budget.split[component], 2)} %`, formatMs(budgetMs[component])]),
  ));
  const primaryCheck = primary.check;
  if (primaryCheck) {
    const fixed = primary.source === 'fixed';
    out.push(fixed ? `sandbox start: ${formatMs(primaryCheck.byPercentile.p50.startMs)}, fixed by ${primary.origin} (p50 = p95 = p99)` : `sandbox start: ${primary.label}, measured by ${primary.origin}`);
    out.push(formatTable(
      ['percentile', 'start', 'target − start', 'left for inference', 'verdict'],
      (fixed ? (['p50'] as const) : PERCENTILES).map((percentile) => {
        const check = primaryCheck.byPercentile[percentile];
        const verdict = describeVerdict(budget, checkStartOption(budget, fixedStart(check.startMs)), true);
        return [fixed ? 'all' : percentile, formatMs(check.startMs), formatMs(check.targetMinusStartMs), formatMs(check.inferenceLeftMs), verdict];
      }),
    ));
  }
  out.push('start-up options (p50 / p95 / p99)');
  out.push(formatTable(
    ['option', 'start', 'target − start', 'left for inference', 'verdict'],
    rows.map((row) => {
      const { check } = row;
      if (!check) return [row.label, 'not measured', '-', '-', row.key === 'microvm' ? 'not measured (add --compare microvm=DURATION)' : 'not measured'];
      const values = (pick: (percentileCheck: StartCheck) => number): string => threeValues(PERCENTILES.map((percentile) => pick(check.byPercentile[percentile])));
      return [row.label, values((c) => c.startMs), values((c) => c.targetMinusStartMs), values((c) => c.inferenceLeftMs), describeVerdict(budget, check, row.source === 'fixed')];
    }),
  ));
  const measuredFrom = [...new Set(rows.filter((row) => row.source === 'measured').map((row) => row.origin))];
  if (measuredFrom.length) out.push(`measured: ${measuredFrom.join(', ')}`);
  out.push(`${summary} (target − start).`);
  const afterShares = [primary.starts?.p50Ms ?? 0, ...compareStartsMs].map((startMs) => formatMs(budget.targetMs - budgetMs.context - budgetMs.orchestration - startMs));
  out.push(`after the ${formatMs(budgetMs.context)} context and ${formatMs(budgetMs.orchestration)} orchestration shares, inference gets ${afterShares.join(', ').replace(/, ([^,]*)$/, ' and $1')}.`);
  return `${out.join('\n')}\n`;
}

function rowJson(row: StartRow, budget: LatencyBudget): Record<string, unknown> {
  return {
    key: row.key,
    label: row.label,
    source: row.source,
    origin: row.origin || null,
    p50Ms: row.starts?.p50Ms ?? null,
    p95Ms: row.starts?.p95Ms ?? null,
    p99Ms: row.starts?.p99Ms ?? null,
    checks: row.check?.byPercentile ?? null,
    blowsBudget: row.check?.blowsBudget ?? null,
    verdict: row.check ? describeVerdict(budget, row.check, row.source === 'fixed') : 'not measured',
  };
}

/** JSON numbers rounded to microseconds; Infinity, NaN and undefined become null. */
function jsonNumbers(_key: string, value: unknown): unknown {
  if (value === undefined) return null;
  if (typeof value !== 'number') return value;
  return Number.isFinite(value) ? Math.round(value * 1000) / 1000 : null;
}

async function budget(argv: string[]): Promise<number> {
  const values = parseFlags(argv);
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (values.target === undefined) throw new InvalidArgumentError('--target is required, e.g. --target 200ms');
  const targetMs = parseDurationMs(values.target, '--target', { allowZero: false });
  const latencyBudget = makeBudget(targetMs, values.split === undefined ? DEFAULT_SPLIT : parseSplit(values.split));
  const fixedStartMs = values.start === undefined ? undefined : parseDurationMs(values.start, '--start');
  const compares = (values.compare ?? []).map(parseCompare);
  if (fixedStartMs === undefined && values.measured === undefined) {
    throw new InvalidArgumentError('give the sandbox start: --start 27ms, --measured (this server) or --measured bench-results/latest.json');
  }
  const measured = values.measured === undefined ? undefined : await loadMeasuredStarts(values.measured || undefined, () => apiClientOptions(values));
  const rows = buildRows(latencyBudget, measured, fixedStartMs, compares);
  const primary = primaryRow(rows);
  const compareStartsMs = compares.map((compare) => compare.startMs);
  const summary = describeTargetMinusStart(targetMs, [primary.starts?.p50Ms ?? 0, ...compareStartsMs]);
  if (values.json) {
    const report = {
      targetMs,
      split: latencyBudget.split,
      budgetMs: latencyBudget.budgetMs,
      start: rowJson(primary, latencyBudget),
      options: rows.map((row) => rowJson(row, latencyBudget)),
      measuredFrom: measured?.source ?? null,
      summary,
    };
    process.stdout.write(`${JSON.stringify(report, jsonNumbers, 2)}\n`);
    return 0;
  }
  process.stdout.write(formatText(latencyBudget, rows, primary, summary, compareStartsMs));
  return 0;
}

export async function runBudget(argv: string[]): Promise<number> {
  return runWithUsageErrors('budget', () => budget(argv));
}
