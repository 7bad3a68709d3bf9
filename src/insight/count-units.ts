// Counts and plain amounts typed on the command line ("1M", "250k", "1.5k", "0.5"), parsed to numbers.
import { InvalidArgumentError } from '../errors/hearth-error.js';

/** Suffix multipliers. Lower-case "m" is refused: it reads as milli as easily as million. */
const MULTIPLIER: Readonly<Record<string, number>> = {
  '': 1,
  k: 1e3,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  B: 1e9,
};

const COUNT = /^((?:\d+(?:\.\d*)?|\.\d+)(?:e\+?\d+)?)\s*([A-Za-z]?)$/i;

export interface CountRules {
  /** Only whole numbers (pool sizes); fractional counts like 1.5k still work when they come out whole. */
  integer: boolean;
  allowZero: boolean;
}

/** Parses "1M", "10M", "250k", "1.5k", "86400", "1e6", "1_000_000" or "1,000,000". */
export function parseCount(text: string, flag: string, rules: CountRules = { integer: false, allowZero: true }): number {
  const compact = text.trim().replace(/[_,]/g, '');
  if (compact.startsWith('-')) throw new InvalidArgumentError(`${flag} must not be negative, got "${text}"`);
  const match = COUNT.exec(compact);
  if (!match) throw new InvalidArgumentError(`${flag} must be a count like 1M, 250k or 86400, got "${text}"`);
  const suffix = match[2] ?? '';
  const multiplier = MULTIPLIER[suffix];
  if (multiplier === undefined) {
    const hint = suffix === 'm' ? ' (use M for millions)' : ' (use k, M or B)';
    throw new InvalidArgumentError(`${flag}: unknown suffix "${suffix}" in "${text}"${hint}`);
  }
  // Multiply through integers where possible so 1.5k is exactly 1500, not 1499.9999999999998.
  const value = Math.round(Number(match[1]) * multiplier * 1e6) / 1e6;
  if (!Number.isFinite(value)) throw new InvalidArgumentError(`${flag} must be a finite count, got "${text}"`);
  if (value === 0 && !rules.allowZero) throw new InvalidArgumentError(`${flag} must be greater than zero, got "${text}"`);
  if (rules.integer && !Number.isInteger(value)) throw new InvalidArgumentError(`${flag} must be a whole number, got "${text}"`);
  return value;
}

/** Parses a plain positive amount such as vCPUs or GiB ("2", "0.5"). */
export function parseAmount(text: string, flag: string, rules: { allowZero: boolean } = { allowZero: false }): number {
  const trimmed = text.trim();
  if (trimmed.startsWith('-')) throw new InvalidArgumentError(`${flag} must not be negative, got "${text}"`);
  const value = /^(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i.test(trimmed) ? Number(trimmed) : Number.NaN;
  if (!Number.isFinite(value)) throw new InvalidArgumentError(`${flag} must be a number, got "${text}"`);
  if (value === 0 && !rules.allowZero) throw new InvalidArgumentError(`${flag} must be greater than zero, got "${text}"`);
  return value;
}

/** A count for people, to three significant digits: "1M", "250k", "1.5k", "366k", "999". */
export function formatCount(value: number): string {
  const units: Array<[number, string]> = [
    [1e9, 'B'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  for (const [size, suffix] of units) {
    if (Math.abs(value) >= size) return `${Number((value / size).toPrecision(3))}${suffix}`;
  }
  return String(Number(value.toPrecision(3)));
}
