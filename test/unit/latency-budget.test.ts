// The latency budget model: the split, target minus start, what is left for inference, and the worked example.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidArgumentError } from '../../src/errors/hearth-error.js';
import { checkStart, checkStartOption, describeTargetMinusStart, describeVerdict, fixedStart, makeBudget, parseSplit } from '../../src/insight/latency-budget.js';

test('the default 30/25/35/10 split of 200 ms', () => {
  const budget = makeBudget(200);
  assert.deepEqual(budget.budgetMs, { context: 60, sandboxStart: 50, inference: 70, orchestration: 20 });
});

test('worked example: 200 ms leaves 173 ms with a 27 ms start and 50 ms with a 150 ms start', () => {
  const budget = makeBudget(200);
  const fast = checkStart(budget, 27);
  assert.equal(fast.targetMinusStartMs, 173);
  assert.equal(fast.inferenceLeftMs, 93);
  assert.equal(fast.blowsBudget, false);
  const slow = checkStart(budget, 150);
  assert.equal(slow.targetMinusStartMs, 50);
  assert.equal(slow.inferenceLeftMs, -30);
  assert.deepEqual([slow.startOverShare, slow.noInferenceLeft, slow.blowsBudget], [true, true, true]);
  assert.equal(describeTargetMinusStart(200, [27, 150]), 'a 200 ms target leaves 173 ms for inference with a 27 ms start and 50 ms with a 150 ms start');
});

test('a start over its share blows the budget even when inference still has time', () => {
  const budget = makeBudget(200);
  const check = checkStart(budget, 60);
  assert.equal(check.inferenceLeftMs, 60);
  assert.deepEqual([check.startOverShare, check.noInferenceLeft, check.blowsBudget], [true, false, true]);
  assert.equal(checkStart(budget, 50).blowsBudget, false);
  assert.equal(checkStart(budget, 120).noInferenceLeft, true);
});

test('percentiles: the first one that breaks each limit', () => {
  const budget = makeBudget(200);
  const cold = checkStartOption(budget, { p50Ms: 21, p95Ms: 45, p99Ms: 62 });
  assert.equal(cold.overShareFrom, 'p99');
  assert.equal(cold.noInferenceFrom, undefined);
  assert.equal(cold.blowsBudget, true);
  assert.equal(describeVerdict(budget, cold, false), 'BLOWS BUDGET: start over its 50 ms share from p99');
  const gvisor = checkStartOption(budget, { p50Ms: 110, p95Ms: 125, p99Ms: 190 });
  assert.equal(describeVerdict(budget, gvisor, false), 'BLOWS BUDGET: start over its 50 ms share; nothing left for inference from p95');
  const pool = checkStartOption(budget, fixedStart(4));
  assert.equal(describeVerdict(budget, pool, true), 'within budget');
  assert.equal(describeVerdict(budget, checkStartOption(budget, fixedStart(150)), true), 'BLOWS BUDGET: start over its 50 ms share; nothing left for inference');
});

test('split parsing and validation', () => {
  assert.deepEqual(parseSplit('30/25/35/10'), { context: 30, sandboxStart: 25, inference: 35, orchestration: 10 });
  assert.deepEqual(parseSplit('10%,40%,40%,10%'), { context: 10, sandboxStart: 40, inference: 40, orchestration: 10 });
  assert.deepEqual(parseSplit('33.3/33.3/33.4/0').inference, 33.4);
  assert.throws(() => parseSplit('30/25/35/20'), (error: unknown) => error instanceof InvalidArgumentError && /must sum to 100, got 30\/25\/35\/20 = 110/.test(error.message));
  assert.throws(() => parseSplit('30/25/45'), /needs four shares/);
  assert.throws(() => parseSplit('-10/45/55/10'), /non-negative numbers/);
  assert.throws(() => parseSplit('a/b/c/d'), InvalidArgumentError);
  const budget = makeBudget(300, parseSplit('10/40/40/10'));
  assert.deepEqual(budget.budgetMs, { context: 30, sandboxStart: 120, inference: 120, orchestration: 30 });
  assert.equal(checkStart(budget, 100).inferenceLeftMs, 140);
});

test('nonsense targets and starts are typed errors', () => {
  assert.throws(() => makeBudget(-5), InvalidArgumentError);
  assert.throws(() => makeBudget(0), InvalidArgumentError);
  assert.throws(() => makeBudget(Number.NaN), InvalidArgumentError);
  assert.throws(() => checkStart(makeBudget(200), -1), InvalidArgumentError);
});

test('the target-minus-start sentence lists every start', () => {
  assert.equal(describeTargetMinusStart(200, [27]), 'a 200 ms target leaves 173 ms for inference with a 27 ms start');
  assert.equal(
    describeTargetMinusStart(200, [4.12, 21, 150]),
    'a 200 ms target leaves 195.9 ms for inference with a 4.1 ms start, 179 ms with a 21 ms start and 50 ms with a 150 ms start',
  );
});
