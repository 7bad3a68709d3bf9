// Durations and per-time rates typed on the command line ("200ms", "0.2s", "0.05/h"), parsed to milliseconds and per-second values.
import { InvalidArgumentError } from '../errors/hearth-error.js';

/**
 * Milliseconds per unit. Units are case-insensitive; a bare number ("27") is milliseconds, the unit
 * every Hearth latency is reported in (`p50Ms`, `hearth bench`).
 */
const MS_PER_UNIT: Readonly<Record<string, number>> = {
  us: 0.001,
  µs: 0.001,
  ms: 1,
  s: 1000,
  sec: 1000,
  second: 1000,
  seconds: 1000,
  m: 60_000,
  min: 60_000,
  minute: 60_000,
  minutes: 60_000,
  h: 3_600_000,
  hr: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
};

export const DURATION_UNITS = 'us, ms, s, m or min, h';

const NUMBER_AND_UNIT = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?)\s*([^\s\d.+-][^\s]*)?$/i;

export interface DurationRules {
  /** Whether zero is accepted (a start time may be 0; a target may not). */
  allowZero: boolean;
}

/** Parses "200ms", "0.2s", "1m", "1.5h", "27" (milliseconds) into milliseconds; refuses negatives, NaN and unknown units. */
export function parseDurationMs(text: string, flag: string, rules: DurationRules = { allowZero: true }): number {
  const match = NUMBER_AND_UNIT.exec(text.trim());
  if (!match) throw new InvalidArgumentError(`${flag} must be a duration like 200ms, 0.2s or 1m, got "${text}"`);
  const value = Number(match[1]);
  const unit = (match[2] ?? 'ms').toLowerCase();
  const factor = MS_PER_UNIT[unit];
  if (factor === undefined) throw new InvalidArgumentError(`${flag}: unknown unit "${match[2] ?? ''}" in "${text}" (use ${DURATION_UNITS})`);
  const ms = value * factor;
  if (!Number.isFinite(ms)) throw new InvalidArgumentError(`${flag} must be a finite duration, got "${text}"`);
  if (ms < 0) throw new InvalidArgumentError(`${flag} must not be negative, got "${text}"`);
  if (ms === 0 && !rules.allowZero) throw new InvalidArgumentError(`${flag} must be greater than zero, got "${text}"`);
  return ms;
}

/**
 * Parses a price per unit of time, "0.000014/s" or "0.05/h" (a leading "$" is ignored), into a price
 * per second. The time unit is required: a bare "0.05" could be per second or per hour, 3600× apart.
 */
export function parseRatePerSecond(text: string, flag: string): number {
  const trimmed = text.trim().replace(/^\$/, '');
  const slash = trimmed.indexOf('/');
  if (slash < 0) throw new InvalidArgumentError(`${flag} needs a time unit, like 0.000014/s or 0.05/h, got "${text}"`);
  const amountText = trimmed.slice(0, slash).trim();
  const unit = trimmed.slice(slash + 1).trim().toLowerCase();
  const amount = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i.test(amountText) ? Number(amountText) : Number.NaN;
  if (!Number.isFinite(amount)) throw new InvalidArgumentError(`${flag} must be a price like 0.000014/s or 0.05/h, got "${text}"`);
  if (amount < 0) throw new InvalidArgumentError(`${flag} must not be negative, got "${text}"`);
  const msPerUnit = MS_PER_UNIT[unit];
  if (msPerUnit === undefined) throw new InvalidArgumentError(`${flag}: unknown time unit "/${unit}" in "${text}" (use /s or /h)`);
  return (amount * 1000) / msPerUnit;
}

/** A number for people: at most `digits` decimals, no trailing zeros ("173", "11.6", "-30"). */
export function formatNumber(value: number, digits = 1): string {
  if (!Number.isFinite(value)) return value > 0 ? '∞' : value < 0 ? '-∞' : '-';
  const factor = 10 ** digits;
  const rounded = Math.round(value * factor) / factor;
  return String(Object.is(rounded, -0) ? 0 : rounded);
}

/** Milliseconds for people: "173 ms", "4.1 ms". */
export function formatMs(ms: number): string {
  return `${formatNumber(ms)} ms`;
}

/** A duration in the largest unit that keeps it readable: "500 ms", "2 s", "1.5 min", "2 h". */
export function formatDuration(ms: number): string {
  const abs = Math.abs(ms);
  if (abs < 1000) return formatMs(ms);
  if (abs < 60_000) return `${formatNumber(ms / 1000, 3)} s`;
  if (abs < 3_600_000) return `${formatNumber(ms / 60_000, 2)} min`;
  return `${formatNumber(ms / 3_600_000, 2)} h`;
}
