// Latency budget model: splits an end-to-end target across components and checks sandbox start times against it.
/*
 * All values in milliseconds; T is the target, s the sandbox start at one percentile (p50, p95 or p99).
 *
 *   budget(component)  = T × share(component) / 100          (the four shares sum to 100)
 *   target − start     = T − s                                (what inference may use if nothing else costs time)
 *   left for inference = T − budget(context) − budget(orchestration) − s
 *   blows the budget   when s > budget(sandbox start)  or  left for inference ≤ 0
 *
 * Worked example: a 200 ms target leaves 173 ms for inference with a 27 ms start and 50 ms with a 150 ms start.
 * That is T − s. With the default 30/25/35/10 split, context (60 ms) and orchestration (20 ms) come off as
 * well, so inference really gets 93 ms with a 27 ms start and −30 ms with a 150 ms start, which blows the budget.
 */
import { InvalidArgumentError } from '../errors/hearth-error.js';
import { formatMs, formatNumber } from './duration-units.js';

export type Component = 'context' | 'sandboxStart' | 'inference' | 'orchestration';

/** The order `--split` takes its four shares in. */
export const COMPONENTS: readonly Component[] = ['context', 'sandboxStart', 'inference', 'orchestration'];

export const COMPONENT_LABELS: Readonly<Record<Component, string>> = {
  context: 'context gathering',
  sandboxStart: 'sandbox start',
  inference: 'model inference',
  orchestration: 'orchestration',
};

/** Shares of the target in percent. */
export type BudgetSplit = Record<Component, number>;

export const DEFAULT_SPLIT: Readonly<BudgetSplit> = { context: 30, sandboxStart: 25, inference: 35, orchestration: 10 };

export type Percentile = 'p50' | 'p95' | 'p99';
export const PERCENTILES: readonly Percentile[] = ['p50', 'p95', 'p99'];

export interface StartPercentiles {
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
}

export interface LatencyBudget {
  targetMs: number;
  split: BudgetSplit;
  budgetMs: Record<Component, number>;
}

export interface StartCheck {
  startMs: number;
  targetMinusStartMs: number;
  inferenceLeftMs: number;
  startOverShare: boolean;
  noInferenceLeft: boolean;
  blowsBudget: boolean;
}

export interface StartOptionCheck {
  byPercentile: Record<Percentile, StartCheck>;
  blowsBudget: boolean;
  /** The lowest percentile at which the start exceeds its share, if any. */
  overShareFrom: Percentile | undefined;
  /** The lowest percentile at which inference has no time left, if any. */
  noInferenceFrom: Percentile | undefined;
}

const SPLIT_TOLERANCE = 1e-6;

/** Parses "30/25/35/10" (or "30,25,35,10", "%" signs allowed): context, sandbox start, inference, orchestration. */
export function parseSplit(text: string, flag = '--split'): BudgetSplit {
  const parts = text.split(/[/,]/).map((part) => part.trim().replace(/%$/, ''));
  if (parts.length !== COMPONENTS.length) {
    throw new InvalidArgumentError(`${flag} needs four shares, context/start/inference/orchestration like 30/25/35/10, got "${text}"`);
  }
  const shares = parts.map((part) => (/^(?:\d+(?:\.\d*)?|\.\d+)$/.test(part) ? Number(part) : Number.NaN));
  if (shares.some((share) => !Number.isFinite(share))) {
    throw new InvalidArgumentError(`${flag} shares must be non-negative numbers like 30/25/35/10, got "${text}"`);
  }
  const split: BudgetSplit = { context: shares[0] ?? 0, sandboxStart: shares[1] ?? 0, inference: shares[2] ?? 0, orchestration: shares[3] ?? 0 };
  validateSplit(split, flag);
  return split;
}

export function validateSplit(split: BudgetSplit, flag = '--split'): void {
  const values = COMPONENTS.map((component) => split[component]);
  if (values.some((value) => !Number.isFinite(value) || value < 0)) throw new InvalidArgumentError(`${flag} shares must be non-negative numbers`);
  const total = values.reduce((sum, value) => sum + value, 0);
  if (Math.abs(total - 100) > SPLIT_TOLERANCE) {
    throw new InvalidArgumentError(`${flag} shares must sum to 100, got ${values.map((value) => formatNumber(value, 6)).join('/')} = ${formatNumber(total, 6)}`);
  }
}

export function makeBudget(targetMs: number, split: BudgetSplit = DEFAULT_SPLIT): LatencyBudget {
  if (!Number.isFinite(targetMs) || targetMs <= 0) throw new InvalidArgumentError(`the target must be a positive duration, got ${targetMs} ms`);
  validateSplit(split);
  const budgetMs = { context: 0, sandboxStart: 0, inference: 0, orchestration: 0 };
  for (const component of COMPONENTS) budgetMs[component] = (targetMs * split[component]) / 100;
  return { targetMs, split: { ...split }, budgetMs };
}

export function fixedStart(startMs: number): StartPercentiles {
  return { p50Ms: startMs, p95Ms: startMs, p99Ms: startMs };
}

export function startAt(starts: StartPercentiles, percentile: Percentile): number {
  return percentile === 'p50' ? starts.p50Ms : percentile === 'p95' ? starts.p95Ms : starts.p99Ms;
}

/** One start time against the budget. */
export function checkStart(budget: LatencyBudget, startMs: number): StartCheck {
  if (!Number.isFinite(startMs) || startMs < 0) throw new InvalidArgumentError(`a sandbox start must be a non-negative duration, got ${startMs} ms`);
  const targetMinusStartMs = budget.targetMs - startMs;
  const inferenceLeftMs = budget.targetMs - budget.budgetMs.context - budget.budgetMs.orchestration - startMs;
  const startOverShare = startMs > budget.budgetMs.sandboxStart;
  const noInferenceLeft = inferenceLeftMs <= 0;
  return { startMs, targetMinusStartMs, inferenceLeftMs, startOverShare, noInferenceLeft, blowsBudget: startOverShare || noInferenceLeft };
}

/** A start-up option's p50/p95/p99 against the budget, with the first percentile at which each limit breaks. */
export function checkStartOption(budget: LatencyBudget, starts: StartPercentiles): StartOptionCheck {
  const byPercentile = { p50: checkStart(budget, starts.p50Ms), p95: checkStart(budget, starts.p95Ms), p99: checkStart(budget, starts.p99Ms) };
  const overShareFrom = PERCENTILES.find((percentile) => byPercentile[percentile].startOverShare);
  const noInferenceFrom = PERCENTILES.find((percentile) => byPercentile[percentile].noInferenceLeft);
  return { byPercentile, blowsBudget: PERCENTILES.some((percentile) => byPercentile[percentile].blowsBudget), overShareFrom, noInferenceFrom };
}

/** "within budget", or what breaks and from which percentile ("from p95", "from p99"; nothing when it breaks already at p50). */
export function describeVerdict(budget: LatencyBudget, check: StartOptionCheck, fixed: boolean): string {
  const from = (percentile: Percentile | undefined): string => (fixed || percentile === undefined || percentile === 'p50' ? '' : ` from ${percentile}`);
  const reasons: string[] = [];
  if (check.overShareFrom) reasons.push(`start over its ${formatMs(budget.budgetMs.sandboxStart)} share${from(check.overShareFrom)}`);
  if (check.noInferenceFrom) reasons.push(`nothing left for inference${from(check.noInferenceFrom)}`);
  return reasons.length ? `BLOWS BUDGET: ${reasons.join('; ')}` : 'within budget';
}

/**
 * The target-minus-start sentence of the worked example, for one or more start times:
 * "a 200 ms target leaves 173 ms for inference with a 27 ms start and 50 ms with a 150 ms start".
 */
export function describeTargetMinusStart(targetMs: number, startsMs: readonly number[]): string {
  const [first, ...rest] = startsMs;
  if (first === undefined) return `a ${formatMs(targetMs)} target`;
  const phrase = (startMs: number): string => `${formatMs(targetMs - startMs)} with a ${formatMs(startMs)} start`;
  const head = `a ${formatMs(targetMs)} target leaves ${formatMs(targetMs - first)} for inference with a ${formatMs(first)} start`;
  const last = rest.pop();
  if (last === undefined) return head;
  return [head, ...rest.map(phrase)].join(', ') + ` and ${phrase(last)}`;
}
