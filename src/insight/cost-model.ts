// Cost model: what invocations cost per day and month at two start times, and when a warm pool's idle cost pays off.
/*
 * N  invocations per day           E  average execution time (s)     s  sandbox start time (s)
 * V  vCPUs per sandbox             G  memory per sandbox (GiB)       Gi memory a frozen pooled sandbox holds (GiB)
 * Pc price per vCPU-second         Pg price per GiB-second           P  warm pool size (sandboxes)
 *
 *   requests per second        = N / 86 400                                   1M/day ≈ 11.6 req/s
 *   sandbox-hours per day      = N × (E + s) / 3600                            a sandbox is held for its start and its run
 *   vCPU-hours, GiB-hours/day  = sandbox-hours × V, sandbox-hours × G
 *   busy sandboxes (mean)      = N / 86 400 × (E + s)                          Little's law
 *   price per sandbox-second   = V × Pc + G × Pg
 *   cost per day               = N × (E + s) × (V × Pc + G × Pg);  per month = 30 × per day
 *   time saved per day         = N × (s_slow − s_fast) / 3600 h                123 ms × 1M/day = 34.2 h/day
 *   saving per day             = N × (s_slow − s_fast) × (V × Pc + G × Pg)
 *   pool idle cost per day     = P × Gi × Pg × 86 400                          frozen: memory only, no CPU
 *   break-even invocations/day = pool idle cost per day / ((s_slow − s_fast) × (V × Pc + G × Pg))
 *   largest pool that pays     = saving per day / (Gi × Pg × 86 400)
 *
 * The pool figures assume every create is a pool hit (the pool refills faster than it drains).
 */
import { InvalidArgumentError } from '../errors/hearth-error.js';

export const SECONDS_PER_DAY = 86_400;
export const DAYS_PER_MONTH = 30;

export interface Prices {
  vcpuPerSecond: number;
  gibPerSecond: number;
}

export interface CostInputs {
  invocationsPerDay: number;
  execMs: number;
  vcpusPerSandbox: number;
  memoryGiB: number;
  /** Undefined when no price was given: only time and resource figures are computed then. */
  prices: Prices | undefined;
  poolSize: number;
  idleMemoryGiB: number;
}

export interface StartCost {
  startMs: number;
  sandboxHoursPerDay: number;
  vcpuHoursPerDay: number;
  gibHoursPerDay: number;
  busySandboxes: number;
  costPerDay: number | undefined;
  costPerMonth: number | undefined;
}

export interface StartSaving {
  savedMsPerInvocation: number;
  hoursSavedPerDay: number;
  costSavedPerDay: number | undefined;
  costSavedPerMonth: number | undefined;
}

export interface PoolBreakEven {
  poolSize: number;
  idleGibHoursPerDay: number;
  idleCostPerSandboxPerDay: number | undefined;
  idleCostPerDay: number | undefined;
  savingPerInvocation: number | undefined;
  /** Invocations a day at which the pool's idle cost equals what its faster start saves (Infinity: never). */
  breakEvenInvocationsPerDay: number | undefined;
  /** The largest pool whose idle cost the saving still covers at N a day (Infinity: idle memory is free). */
  largestPoolThatPays: number | undefined;
  netSavingPerDay: number | undefined;
  /** Undefined without prices or without a pool. */
  paysOff: boolean | undefined;
}

export interface CostReport {
  requestsPerSecond: number;
  fast: StartCost;
  slow: StartCost;
  saving: StartSaving;
  pool: PoolBreakEven;
}

function requireNumber(value: number, name: string, rule: 'positive' | 'non-negative'): void {
  const ok = Number.isFinite(value) && (rule === 'positive' ? value > 0 : value >= 0);
  if (!ok) throw new InvalidArgumentError(`${name} must be ${rule === 'positive' ? 'greater than zero' : 'zero or more'}, got ${value}`);
}

export function validateCostInputs(inputs: CostInputs): void {
  requireNumber(inputs.invocationsPerDay, 'invocations per day', 'positive');
  requireNumber(inputs.execMs, 'execution time', 'positive');
  requireNumber(inputs.vcpusPerSandbox, 'vCPUs per sandbox', 'positive');
  requireNumber(inputs.memoryGiB, 'memory per sandbox', 'positive');
  requireNumber(inputs.idleMemoryGiB, 'idle memory per pooled sandbox', 'non-negative');
  requireNumber(inputs.poolSize, 'pool size', 'non-negative');
  if (!Number.isInteger(inputs.poolSize)) throw new InvalidArgumentError(`pool size must be a whole number, got ${inputs.poolSize}`);
  if (inputs.prices) {
    requireNumber(inputs.prices.vcpuPerSecond, 'vCPU price', 'non-negative');
    requireNumber(inputs.prices.gibPerSecond, 'memory price', 'non-negative');
  }
}

export function requestsPerSecond(invocationsPerDay: number): number {
  return invocationsPerDay / SECONDS_PER_DAY;
}

/** V × Pc + G × Pg: what one running sandbox costs per second. */
export function pricePerSandboxSecond(inputs: CostInputs): number | undefined {
  return inputs.prices ? inputs.vcpusPerSandbox * inputs.prices.vcpuPerSecond + inputs.memoryGiB * inputs.prices.gibPerSecond : undefined;
}

export function costAtStart(inputs: CostInputs, startMs: number): StartCost {
  requireNumber(startMs, 'start time', 'non-negative');
  const heldSeconds = (inputs.execMs + startMs) / 1000;
  const sandboxSecondsPerDay = inputs.invocationsPerDay * heldSeconds;
  const sandboxHoursPerDay = sandboxSecondsPerDay / 3600;
  const price = pricePerSandboxSecond(inputs);
  const costPerDay = price === undefined ? undefined : sandboxSecondsPerDay * price;
  return {
    startMs,
    sandboxHoursPerDay,
    vcpuHoursPerDay: sandboxHoursPerDay * inputs.vcpusPerSandbox,
    gibHoursPerDay: sandboxHoursPerDay * inputs.memoryGiB,
    busySandboxes: requestsPerSecond(inputs.invocationsPerDay) * heldSeconds,
    costPerDay,
    costPerMonth: costPerDay === undefined ? undefined : costPerDay * DAYS_PER_MONTH,
  };
}

export function startSaving(inputs: CostInputs, fastMs: number, slowMs: number): StartSaving {
  const savedMsPerInvocation = slowMs - fastMs;
  const price = pricePerSandboxSecond(inputs);
  const costSavedPerDay = price === undefined ? undefined : (inputs.invocationsPerDay * savedMsPerInvocation * price) / 1000;
  return {
    savedMsPerInvocation,
    hoursSavedPerDay: (inputs.invocationsPerDay * savedMsPerInvocation) / 1000 / 3600,
    costSavedPerDay,
    costSavedPerMonth: costSavedPerDay === undefined ? undefined : costSavedPerDay * DAYS_PER_MONTH,
  };
}

export function poolBreakEven(inputs: CostInputs, fastMs: number, slowMs: number): PoolBreakEven {
  const idleGibHoursPerDay = inputs.poolSize * inputs.idleMemoryGiB * 24;
  const price = pricePerSandboxSecond(inputs);
  if (!inputs.prices || price === undefined) {
    return { poolSize: inputs.poolSize, idleGibHoursPerDay, idleCostPerSandboxPerDay: undefined, idleCostPerDay: undefined, savingPerInvocation: undefined, breakEvenInvocationsPerDay: undefined, largestPoolThatPays: undefined, netSavingPerDay: undefined, paysOff: undefined };
  }
  const idleCostPerSandboxPerDay = inputs.idleMemoryGiB * inputs.prices.gibPerSecond * SECONDS_PER_DAY;
  const idleCostPerDay = inputs.poolSize * idleCostPerSandboxPerDay;
  const savingPerInvocation = ((slowMs - fastMs) / 1000) * price;
  const savingPerDay = inputs.invocationsPerDay * savingPerInvocation;
  const breakEvenInvocationsPerDay = savingPerInvocation > 0 ? idleCostPerDay / savingPerInvocation : idleCostPerDay === 0 ? 0 : Number.POSITIVE_INFINITY;
  const largestPoolThatPays = idleCostPerSandboxPerDay > 0 ? Math.max(0, Math.floor(savingPerDay / idleCostPerSandboxPerDay)) : savingPerDay >= 0 ? Number.POSITIVE_INFINITY : 0;
  const netSavingPerDay = savingPerDay - idleCostPerDay;
  return {
    poolSize: inputs.poolSize,
    idleGibHoursPerDay,
    idleCostPerSandboxPerDay,
    idleCostPerDay,
    savingPerInvocation,
    breakEvenInvocationsPerDay,
    largestPoolThatPays,
    netSavingPerDay,
    paysOff: inputs.poolSize > 0 ? netSavingPerDay >= 0 : undefined,
  };
}

/** Everything `hearth cost` prints, for a fast (pool hit) and a slow (cold) start. */
export function costReport(inputs: CostInputs, fastMs: number, slowMs: number): CostReport {
  validateCostInputs(inputs);
  return {
    requestsPerSecond: requestsPerSecond(inputs.invocationsPerDay),
    fast: costAtStart(inputs, fastMs),
    slow: costAtStart(inputs, slowMs),
    saving: startSaving(inputs, fastMs, slowMs),
    pool: poolBreakEven(inputs, fastMs, slowMs),
  };
}
