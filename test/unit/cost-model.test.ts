// The cost model against its worked numbers: 1M/day ≈ 11.6 req/s, 123 ms × 1M/day = 34.2 h/day, and a pool's break-even.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { round } from '../../src/bench/latency-stats.js';
import { InvalidArgumentError } from '../../src/errors/hearth-error.js';
import { costAtStart, costReport, poolBreakEven, requestsPerSecond, startSaving, type CostInputs } from '../../src/insight/cost-model.js';

/** 1M invocations a day of 2 s each on 2 vCPUs and 0.5 GiB, at 0.000014 per vCPU-second and 0.0000015 per GiB-second. */
const WORKED: CostInputs = {
  invocationsPerDay: 1_000_000,
  execMs: 2000,
  vcpusPerSandbox: 2,
  memoryGiB: 0.5,
  prices: { vcpuPerSecond: 0.000014, gibPerSecond: 0.0000015 },
  poolSize: 20,
  idleMemoryGiB: 0.5,
};

test('1M invocations a day is about 11.6 requests per second', () => {
  assert.equal(round(requestsPerSecond(1_000_000), 1), 11.6);
  assert.equal(round(requestsPerSecond(1_000_000), 6), 11.574074);
  assert.equal(requestsPerSecond(86_400), 1);
});

test('a 123 ms faster start saves 34.2 sandbox-hours a day at 1M/day', () => {
  const saving = startSaving({ ...WORKED, prices: undefined }, 27, 150);
  assert.equal(saving.savedMsPerInvocation, 123);
  assert.equal(round(saving.hoursSavedPerDay, 1), 34.2);
  assert.equal(round(saving.hoursSavedPerDay, 4), 34.1667);
  assert.equal(saving.costSavedPerDay, undefined);
});

test('compute hours, busy sandboxes and cost per day and month at one start time', () => {
  const fast = costAtStart(WORKED, 27);
  assert.equal(round(fast.sandboxHoursPerDay, 2), 563.06);
  assert.equal(round(fast.vcpuHoursPerDay, 2), 1126.11);
  assert.equal(round(fast.gibHoursPerDay, 2), 281.53);
  assert.equal(round(fast.busySandboxes, 2), 23.46);
  // 2 027 000 sandbox-seconds × (2 × 0.000014 + 0.5 × 0.0000015) = 58.27625
  assert.equal(round(fast.costPerDay ?? Number.NaN, 4), 58.2763);
  assert.equal(round(fast.costPerMonth ?? Number.NaN, 2), 1748.29);
  const slow = costAtStart(WORKED, 150);
  assert.equal(round(slow.costPerDay ?? Number.NaN, 4), 61.8125);
  assert.equal(costAtStart({ ...WORKED, prices: undefined }, 27).costPerDay, undefined);
});

test('warm pool break-even: idle memory against the start time it saves', () => {
  const pool = poolBreakEven(WORKED, 27, 150);
  // each frozen sandbox: 0.5 GiB × 0.0000015 × 86 400 = 0.0648 a day; 20 of them 1.296
  assert.equal(round(pool.idleCostPerSandboxPerDay ?? Number.NaN, 6), 0.0648);
  assert.equal(round(pool.idleCostPerDay ?? Number.NaN, 6), 1.296);
  assert.equal(round(pool.idleGibHoursPerDay, 6), 240);
  // saving per invocation: 0.123 s × 0.00002875 = 0.00000353625; break-even 1.296 / that
  assert.equal(round((pool.savingPerInvocation ?? Number.NaN) * 1e9, 2), 3536.25);
  assert.equal(Math.round(pool.breakEvenInvocationsPerDay ?? Number.NaN), 366_490);
  assert.equal(pool.largestPoolThatPays, 54);
  assert.equal(round(pool.netSavingPerDay ?? Number.NaN, 5), 2.24025);
  assert.equal(pool.paysOff, true);
  assert.equal(poolBreakEven({ ...WORKED, poolSize: 60 }, 27, 150).paysOff, false);
  assert.equal(poolBreakEven({ ...WORKED, poolSize: 0 }, 27, 150).paysOff, undefined);
});

test('frozen sandboxes with free memory always pay; a slower "fast" start never does', () => {
  const freeMemory = poolBreakEven({ ...WORKED, prices: { vcpuPerSecond: 0.000014, gibPerSecond: 0 } }, 27, 150);
  assert.equal(freeMemory.idleCostPerDay, 0);
  assert.equal(freeMemory.breakEvenInvocationsPerDay, 0);
  assert.equal(freeMemory.largestPoolThatPays, Number.POSITIVE_INFINITY);
  const backwards = poolBreakEven(WORKED, 150, 27);
  assert.equal(backwards.breakEvenInvocationsPerDay, Number.POSITIVE_INFINITY);
  assert.equal(backwards.largestPoolThatPays, 0);
  assert.equal(backwards.paysOff, false);
  const noPrices = poolBreakEven({ ...WORKED, prices: undefined }, 27, 150);
  assert.equal(noPrices.breakEvenInvocationsPerDay, undefined);
  assert.equal(noPrices.idleGibHoursPerDay, 240);
});

test('the report puts it together and refuses nonsense inputs', () => {
  const report = costReport(WORKED, 27, 150);
  assert.equal(round(report.requestsPerSecond, 1), 11.6);
  assert.equal(round(report.saving.costSavedPerDay ?? Number.NaN, 5), 3.53625);
  assert.equal(round(report.saving.costSavedPerMonth ?? Number.NaN, 4), 106.0875);
  assert.throws(() => costReport({ ...WORKED, invocationsPerDay: 0 }, 27, 150), InvalidArgumentError);
  assert.throws(() => costReport({ ...WORKED, execMs: -1 }, 27, 150), /execution time must be greater than zero/);
  assert.throws(() => costReport({ ...WORKED, prices: { vcpuPerSecond: -1, gibPerSecond: 0 } }, 27, 150), /vCPU price must be zero or more/);
  assert.throws(() => costReport({ ...WORKED, poolSize: 1.5 }, 27, 150), /pool size must be a whole number/);
  assert.throws(() => costReport(WORKED, -27, 150), /start time/);
});
