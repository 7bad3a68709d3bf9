// Durations and per-time prices from the command line: units, bare milliseconds, and refusal of nonsense.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidArgumentError } from '../../src/errors/hearth-error.js';
import { formatDuration, formatMs, formatNumber, parseDurationMs, parseRatePerSecond } from '../../src/insight/duration-units.js';

test('durations in every unit become milliseconds; a bare number is milliseconds', () => {
  assert.equal(parseDurationMs('200ms', '--target'), 200);
  assert.equal(parseDurationMs('0.2s', '--target'), 200);
  assert.equal(parseDurationMs('1m', '--target'), 60_000);
  assert.equal(parseDurationMs('2min', '--target'), 120_000);
  assert.equal(parseDurationMs('1.5h', '--target'), 5_400_000);
  assert.equal(parseDurationMs('250us', '--target'), 0.25);
  assert.equal(parseDurationMs('27', '--start'), 27);
  assert.equal(parseDurationMs(' 2 S ', '--exec'), 2000);
  assert.equal(parseDurationMs('1e3ms', '--exec'), 1000);
  assert.equal(parseDurationMs('.5s', '--exec'), 500);
  assert.equal(parseDurationMs('0ms', '--start'), 0);
});

test('nonsense durations are typed errors that name the flag', () => {
  assert.throws(() => parseDurationMs('-5ms', '--target'), (error: unknown) => error instanceof InvalidArgumentError && /--target must not be negative, got "-5ms"/.test(error.message));
  assert.throws(() => parseDurationMs('5parsecs', '--target'), /--target: unknown unit "parsecs" in "5parsecs"/);
  assert.throws(() => parseDurationMs('fast', '--start'), /--start must be a duration like 200ms/);
  assert.throws(() => parseDurationMs('', '--start'), InvalidArgumentError);
  assert.throws(() => parseDurationMs('1.2.3s', '--start'), InvalidArgumentError);
  assert.throws(() => parseDurationMs('1e400s', '--start'), /finite/);
  assert.throws(() => parseDurationMs('0', '--target', { allowZero: false }), /--target must be greater than zero/);
});

test('prices per second or per hour become prices per second; the time unit is required', () => {
  assert.equal(parseRatePerSecond('0.000014/s', '--vcpu-price'), 0.000014);
  assert.equal(parseRatePerSecond('0.05/h', '--vcpu-price') * 3600, 0.05);
  assert.equal(parseRatePerSecond('$3.6/h', '--vcpu-price'), 0.001);
  assert.equal(parseRatePerSecond('0.06 / min', '--vcpu-price'), 0.001);
  assert.equal(parseRatePerSecond('0/s', '--mem-price'), 0);
  assert.throws(() => parseRatePerSecond('0.05', '--vcpu-price'), /needs a time unit/);
  assert.throws(() => parseRatePerSecond('-0.05/h', '--vcpu-price'), /--vcpu-price must not be negative/);
  assert.throws(() => parseRatePerSecond('0.05/parsec', '--vcpu-price'), /unknown time unit "\/parsec"/);
  assert.throws(() => parseRatePerSecond('cheap/h', '--vcpu-price'), InvalidArgumentError);
});

test('numbers and durations print without noise', () => {
  assert.equal(formatNumber(11.574074), '11.6');
  assert.equal(formatNumber(173), '173');
  assert.equal(formatNumber(-0.04), '0');
  assert.equal(formatNumber(Number.POSITIVE_INFINITY), '∞');
  assert.equal(formatMs(-30), '-30 ms');
  assert.equal(formatMs(4.1234), '4.1 ms');
  assert.equal(formatDuration(500), '500 ms');
  assert.equal(formatDuration(2000), '2 s');
  assert.equal(formatDuration(90_000), '1.5 min');
  assert.equal(formatDuration(7_200_000), '2 h');
});
