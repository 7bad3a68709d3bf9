// Counts from the command line: k/M/B suffixes, separators, whole-number rules and refusal of nonsense.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidArgumentError } from '../../src/errors/hearth-error.js';
import { formatCount, parseAmount, parseCount } from '../../src/insight/count-units.js';

test('suffixed and plain counts', () => {
  assert.equal(parseCount('1M', '--per-day'), 1_000_000);
  assert.equal(parseCount('10M', '--per-day'), 10_000_000);
  assert.equal(parseCount('250k', '--per-day'), 250_000);
  assert.equal(parseCount('250K', '--per-day'), 250_000);
  assert.equal(parseCount('1.5k', '--per-day'), 1500);
  assert.equal(parseCount('2B', '--per-day'), 2_000_000_000);
  assert.equal(parseCount('86400', '--per-day'), 86_400);
  assert.equal(parseCount('1_000_000', '--per-day'), 1_000_000);
  assert.equal(parseCount('1,000,000', '--per-day'), 1_000_000);
  assert.equal(parseCount('1e6', '--per-day'), 1_000_000);
  assert.equal(parseCount('0.1k', '--pool', { integer: true, allowZero: true }), 100);
});

test('nonsense counts are typed errors', () => {
  assert.throws(() => parseCount('1m', '--per-day'), (error: unknown) => error instanceof InvalidArgumentError && /unknown suffix "m" in "1m" \(use M for millions\)/.test(error.message));
  assert.throws(() => parseCount('5x', '--per-day'), /unknown suffix "x"/);
  assert.throws(() => parseCount('-5', '--per-day'), /--per-day must not be negative/);
  assert.throws(() => parseCount('lots', '--per-day'), /must be a count like 1M/);
  assert.throws(() => parseCount('', '--per-day'), InvalidArgumentError);
  assert.throws(() => parseCount('0', '--per-day', { integer: false, allowZero: false }), /greater than zero/);
  assert.throws(() => parseCount('1.5', '--pool', { integer: true, allowZero: true }), /--pool must be a whole number/);
});

test('plain amounts (vCPUs, GiB)', () => {
  assert.equal(parseAmount('2', '--vcpus'), 2);
  assert.equal(parseAmount('0.5', '--mem-gib'), 0.5);
  assert.equal(parseAmount('0', '--idle-mem-gib', { allowZero: true }), 0);
  assert.throws(() => parseAmount('0', '--vcpus'), /--vcpus must be greater than zero/);
  assert.throws(() => parseAmount('-1', '--vcpus'), /must not be negative/);
  assert.throws(() => parseAmount('two', '--vcpus'), /must be a number/);
});

test('counts print to three significant digits', () => {
  assert.equal(formatCount(1_000_000), '1M');
  assert.equal(formatCount(10_000_000), '10M');
  assert.equal(formatCount(250_000), '250k');
  assert.equal(formatCount(1500), '1.5k');
  assert.equal(formatCount(366_491), '366k');
  assert.equal(formatCount(999), '999');
  assert.equal(formatCount(2_000_000_000), '2B');
});
