// `hearth budget` and `hearth cost` as a user runs them: worked numbers, --json shapes, measured inputs and nonsense input.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError } from '../../src/errors/hearth-error.js';
import { loadServerStarts, startsFromAdminStats, startsFromBench } from '../../src/insight/start-sources.js';
import { testTempDir } from '../helpers/test-run.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const WORKED_SENTENCE = 'a 200 ms target leaves 173 ms for inference with a 27 ms start and 50 ms with a 150 ms start';

const BENCH_FIXTURE = {
  version: 1,
  startedAt: '2025-01-01T00:00:00.000Z',
  createPoolHit: { runs: 200, minMs: 2, p50Ms: 4, p95Ms: 8, p99Ms: 12, maxMs: 20, meanMs: 5 },
  createCold: { runs: 200, minMs: 15, p50Ms: 21, p95Ms: 45, p99Ms: 62, maxMs: 90, meanMs: 25 },
  floors: [
    { name: 'bwrap', command: 'bwrap --unshare-all', latency: { runs: 200, minMs: 1, p50Ms: 2, p95Ms: 3, p99Ms: 4, maxMs: 5, meanMs: 2 } },
    { name: 'runsc', command: 'runsc --network=none do /bin/true', latency: { runs: 200, minMs: 100, p50Ms: 130, p95Ms: 160, p99Ms: 190, maxMs: 250, meanMs: 140 } },
  ],
};

let dir = '';
let benchFile = '';

before(() => {
  dir = testTempDir('insight-');
  benchFile = path.join(dir, 'latest.json');
  writeFileSync(benchFile, JSON.stringify(BENCH_FIXTURE));
  writeFileSync(path.join(dir, 'not-bench.json'), JSON.stringify({ hello: 'world' }));
});

after(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function hearth(...args: string[]): Run {
  const result = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'hearth.js'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function json(run: Run): Record<string, unknown> {
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

type Row = { key: string; label: string; source: string; p50Ms: number | null; p99Ms: number | null; blowsBudget: boolean | null; verdict: string; checks: Record<string, { targetMinusStartMs: number; inferenceLeftMs: number }> | null };

test('budget: the worked example, verbatim, in the output and in --help', () => {
  const run = hearth('budget', '--target', '200ms', '--start', '27ms', '--compare', '150ms');
  assert.equal(run.status, 0, run.stderr);
  assert.ok(run.stdout.includes(`${WORKED_SENTENCE} (target − start).`), run.stdout);
  assert.ok(run.stdout.includes('after the 60 ms context and 20 ms orchestration shares, inference gets 93 ms and -30 ms.'), run.stdout);
  assert.match(run.stdout, /context gathering\s+30 %\s+60 ms/);
  assert.match(run.stdout, /sandbox start\s+25 %\s+50 ms/);
  assert.match(run.stdout, /model inference\s+35 %\s+70 ms/);
  assert.match(run.stdout, /orchestration\s+10 %\s+20 ms/);
  assert.match(run.stdout, /150 ms \(--compare\)\s+150 ms\s+50 ms\s+-30 ms\s+BLOWS BUDGET: start over its 50 ms share; nothing left for inference/);
  assert.match(run.stdout, /27 ms \(--start\)\s+27 ms\s+173 ms\s+93 ms\s+within budget/);
  assert.match(run.stdout, /microVM restore\s+not measured/);
  const help = hearth('budget', '--help');
  assert.equal(help.status, 0);
  assert.ok(help.stdout.includes(WORKED_SENTENCE), help.stdout);
  assert.ok(help.stdout.includes('left for inference = T − budget(context) − budget(orchestration) − s'));
});

test('budget --json: budget per component, checks per percentile, options and the summary', () => {
  const report = json(hearth('budget', '--target', '0.2s', '--start', '27', '--compare', '150ms', '--json'));
  assert.equal(report['targetMs'], 200);
  assert.deepEqual(report['budgetMs'], { context: 60, sandboxStart: 50, inference: 70, orchestration: 20 });
  assert.deepEqual(report['split'], { context: 30, sandboxStart: 25, inference: 35, orchestration: 10 });
  assert.equal(report['summary'], WORKED_SENTENCE);
  const start = report['start'] as Row;
  assert.deepEqual(start.checks?.['p99'], { startMs: 27, targetMinusStartMs: 173, inferenceLeftMs: 93, startOverShare: false, noInferenceLeft: false, blowsBudget: false });
  const options = report['options'] as Row[];
  assert.deepEqual(options.map((row) => [row.key, row.source, row.p50Ms, row.blowsBudget]), [
    ['poolHit', 'not measured', null, null],
    ['cold', 'not measured', null, null],
    ['gvisor', 'not measured', null, null],
    ['microvm', 'not measured', null, null],
    ['start', 'fixed', 27, false],
    ['compare', 'fixed', 150, true],
  ]);
});

test('budget --measured FILE: pool hit, cold and the gVisor floor from a bench JSON; named --compare fills microVM', () => {
  const report = json(hearth('budget', '--target', '200ms', '--split', '30/25/35/10', '--measured', benchFile, '--compare', 'microvm=150ms', '--compare', 'mine=80ms', '--json'));
  assert.equal(report['measuredFrom'], benchFile);
  const options = report['options'] as Row[];
  const byKey = new Map(options.map((row) => [row.key, row]));
  assert.equal(byKey.get('poolHit')?.checks?.['p50']?.targetMinusStartMs, 196);
  assert.equal(byKey.get('poolHit')?.checks?.['p99']?.inferenceLeftMs, 108);
  assert.equal(byKey.get('poolHit')?.verdict, 'within budget');
  assert.equal(byKey.get('cold')?.p99Ms, 62);
  assert.equal(byKey.get('cold')?.verdict, 'BLOWS BUDGET: start over its 50 ms share from p99');
  assert.equal(byKey.get('gvisor')?.source, 'measured');
  assert.equal(byKey.get('gvisor')?.verdict, 'BLOWS BUDGET: start over its 50 ms share; nothing left for inference');
  assert.equal(byKey.get('microvm')?.source, 'fixed');
  assert.equal(byKey.get('microvm')?.checks?.['p50']?.targetMinusStartMs, 50);
  assert.equal(options.at(-1)?.label, 'mine');
  assert.equal((report['start'] as Row).key, 'poolHit');
  assert.equal(report['summary'], 'a 200 ms target leaves 196 ms for inference with a 4 ms start, 50 ms with a 150 ms start and 120 ms with a 80 ms start');
  const text = hearth('budget', '--target', '200ms', '--measured', benchFile);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /sandbox start: pool hit, measured by .*latest\.json/);
  assert.match(text.stdout, /p99\s+12 ms\s+188 ms\s+108 ms\s+within budget/);
  assert.match(text.stdout, /cold start \(namespaces\)\s+21 \/ 45 \/ 62 ms\s+179 \/ 155 \/ 138 ms\s+99 \/ 75 \/ 58 ms/);
});

test('cost: the worked numbers in text and in --help', () => {
  const run = hearth('cost', '--per-day', '1M', '--exec', '2s');
  assert.equal(run.status, 0, run.stderr);
  assert.ok(run.stdout.includes('1M invocations/day ≈ 11.6 req/s'), run.stdout);
  assert.ok(run.stdout.includes('123 ms × 1M/day = 34.2 h/day'), run.stdout);
  assert.ok(run.stdout.includes('prices: none given'), run.stdout);
  const priced = hearth('cost', '--per-day', '1M', '--exec', '2s', '--vcpu-price', '0.000014/s', '--mem-price', '0.0000015/s', '--pool', '20');
  assert.equal(priced.status, 0, priced.stderr);
  assert.match(priced.stdout, /fast \(default\)\s+27 ms\s+563\.1\s+1126\.1\s+23\.5\s+58\.28\s+1748\.29/);
  assert.match(priced.stdout, /slow \(default\)\s+150 ms\s+597\.2\s+1194\.4\s+24\.9\s+61\.81\s+1854\.38/);
  assert.ok(priced.stdout.includes('34.2 h/day (3.54/day, 106.09/month)'), priced.stdout);
  assert.ok(priced.stdout.includes('each frozen sandbox costs 0.0648/day idle (memory only); a pool of 20 costs 1.30/day'), priced.stdout);
  assert.ok(priced.stdout.includes('pays for itself above 366k invocations/day; net 2.24/day → pays off'), priced.stdout);
  const help = hearth('cost', '--help');
  assert.equal(help.status, 0);
  assert.ok(help.stdout.includes('1M/day ≈ 11.6 req/s; a faster start saves 123 ms × 1M/day = 34.2 h/day'));
  assert.ok(help.stdout.includes('pool idle cost per day     = P × Gi × Pg × 86400'));
});

test('cost --json: inputs, per-start figures, saving and pool; hourly prices become per-second', () => {
  const report = json(hearth('cost', '--per-day', '1M', '--exec', '2000', '--vcpu-price', '0.0504/h', '--mem-price', '0.0054/h', '--vcpus', '2', '--mem-gib', '0.5', '--pool', '20', '--json'));
  const inputs = report['inputs'] as { prices: { vcpuPerSecond: number; gibPerSecond: number }; poolSize: number; execMs: number };
  assert.equal(inputs.prices.vcpuPerSecond, 0.000014);
  assert.equal(inputs.prices.gibPerSecond, 0.0000015);
  assert.equal(inputs.execMs, 2000);
  assert.equal(Math.round((report['requestsPerSecond'] as number) * 10) / 10, 11.6);
  const fast = report['fast'] as { startMs: number; costPerDay: number; costPerMonth: number };
  assert.equal(fast.startMs, 27);
  assert.equal(Math.round(fast.costPerDay * 100) / 100, 58.28);
  const saving = report['saving'] as { savedMsPerInvocation: number; hoursSavedPerDay: number };
  assert.equal(saving.savedMsPerInvocation, 123);
  assert.equal(Math.round(saving.hoursSavedPerDay * 10) / 10, 34.2);
  const pool = report['pool'] as { largestPoolThatPays: number; paysOff: boolean; breakEvenInvocationsPerDay: number };
  assert.deepEqual([pool.largestPoolThatPays, pool.paysOff, Math.round(pool.breakEvenInvocationsPerDay)], [54, true, 366_490]);
  const unpriced = json(hearth('cost', '--per-day', '250k', '--exec', '500ms', '--json'));
  assert.equal(unpriced['inputs'] && (unpriced['inputs'] as { prices: unknown }).prices, null);
  assert.equal((unpriced['fast'] as { costPerDay: unknown }).costPerDay, null);
});

test('cost --measured FILE: pool-hit and cold p50 as the two starts; explicit flags win', () => {
  const report = json(hearth('cost', '--per-day', '10M', '--exec', '500ms', '--measured', benchFile, '--json'));
  const starts = report['starts'] as { fast: { ms: number; origin: string }; slow: { ms: number; origin: string } };
  assert.equal(starts.fast.ms, 4);
  assert.equal(starts.slow.ms, 21);
  assert.match(starts.fast.origin, /pool hit p50/);
  assert.equal(Math.round((report['saving'] as { hoursSavedPerDay: number }).hoursSavedPerDay * 10) / 10, 47.2);
  const mixed = json(hearth('cost', '--per-day', '1M', '--exec', '1s', '--measured', benchFile, '--start-slow', '150ms', '--json'));
  assert.deepEqual([(mixed['starts'] as typeof starts).fast.ms, (mixed['starts'] as typeof starts).slow.ms], [4, 150]);
});

test('nonsense input: exit code 2 and one line on stderr naming the problem', () => {
  const cases: Array<[string[], RegExp]> = [
    [['budget', '--target', '-5ms', '--start', '27ms'], /--target must not be negative, got "-5ms"/],
    [['budget', '--target', '5parsecs', '--start', '27ms'], /unknown unit "parsecs"/],
    [['budget', '--target', '200ms', '--start', '27ms', '--split', '30/25/35/20'], /--split shares must sum to 100/],
    [['budget', '--target', '200ms', '--start', '27ms', '--split', '50/50'], /needs four shares/],
    [['budget', '--target', '0ms', '--start', '27ms'], /--target must be greater than zero/],
    [['budget', '--start', '27ms'], /--target is required/],
    [['budget', '--target', '200ms'], /--start 27ms, --measured/],
    [['budget', '--target', '200ms', '--start', '-1ms'], /--start must not be negative/],
    [['budget', '--target', '200ms', '--start', '27ms', '--compare', '=5ms'], /needs a name/],
    [['budget', '--target', '200ms', '--start', '27ms', '--frobnicate'], /Unknown option '--frobnicate'/],
    [['budget', '--target', '200ms', '--measured', path.join(os.tmpdir(), 'no-such-hearth-bench.json')], /cannot read bench results/],
    [['cost', '--per-day', '1M', '--exec', '2s', '--vcpu-price', '-0.05/h'], /--vcpu-price must not be negative/],
    [['cost', '--per-day', '1M', '--exec', '2s', '--mem-price', '0.005'], /--mem-price needs a time unit/],
    [['cost', '--per-day', '1M', '--exec', '5parsecs'], /unknown unit "parsecs"/],
    [['cost', '--per-day', '1m', '--exec', '2s'], /use M for millions/],
    [['cost', '--per-day', '-5', '--exec', '2s'], /--per-day must not be negative/],
    [['cost', '--per-day', '1M', '--exec', '0s'], /--exec must be greater than zero/],
    [['cost', '--per-day', '1M', '--exec', '2s', '--pool', '2.5'], /--pool must be a whole number/],
    [['cost', '--per-day', '1M', '--exec', '2s', '--vcpus', '0'], /--vcpus must be greater than zero/],
    [['cost', '--exec', '2s'], /--per-day is required/],
  ];
  for (const [args, expected] of cases) {
    const run = hearth(...args);
    assert.equal(run.status, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.equal(run.stdout, '', args.join(' '));
    assert.match(run.stderr, expected, args.join(' '));
    assert.match(run.stderr, /^hearth (budget|cost): [^\n]+\n$/, `${args.join(' ')}: one line expected, got ${JSON.stringify(run.stderr)}`);
  }
  const notBench = hearth('budget', '--target', '200ms', '--measured', path.join(dir, 'not-bench.json'));
  assert.equal(notBench.status, 2);
  assert.match(notBench.stderr, /is not a `hearth bench` result/);
});

test('hearth help lists both commands', () => {
  const run = hearth('help');
  assert.match(run.stdout, /hearth budget --target T --start S/);
  assert.match(run.stdout, /hearth cost --per-day N --exec D/);
});

test('start sources: /admin/stats and bench shapes, empty histograms are not measurements', async () => {
  const stats = { createLatency: { pool_hit: { count: 12, p50Ms: 3.5, p95Ms: 6, p99Ms: 9 }, cold: { count: 0 } } };
  const fromServer = startsFromAdminStats(stats, 'server x');
  assert.deepEqual(fromServer.starts, { poolHit: { p50Ms: 3.5, p95Ms: 6, p99Ms: 9, samples: 12 } });
  const client = { url: 'http://hearth.invalid', apiKey: 'k' };
  let asked = '';
  const loaded = await loadServerStarts(client, async (_client, method, requestPath) => {
    asked = `${method} ${requestPath}`;
    return stats;
  });
  assert.equal(asked, 'GET /admin/stats');
  assert.equal(loaded.source, 'server http://hearth.invalid');
  assert.equal(loaded.starts.poolHit?.p99Ms, 9);
  assert.throws(() => startsFromAdminStats({ hello: 1 }, 'server x'), InvalidArgumentError);
  const fromBench = startsFromBench(BENCH_FIXTURE, 'fixture');
  assert.deepEqual(Object.keys(fromBench.starts).sort(), ['cold', 'gvisor', 'poolHit']);
  assert.equal(fromBench.starts.gvisor?.p50Ms, 130);
  assert.deepEqual(startsFromBench({ createPoolHit: null, createCold: { p50Ms: 'fast' }, floors: [{ name: 'runsc', latency: null }] }, 'f').starts, {});
  assert.throws(() => startsFromBench([1, 2], 'f'), InvalidArgumentError);
});
