// Reading protobuf-JSON request fields: accepts lowerCamelCase and original snake_case names, enum names or numbers.
import { InvalidArgumentError } from '../../errors/hearth-error.js';

export type JsonObject = Record<string, unknown>;

export function field(object: JsonObject | undefined, camel: string, snake?: string): unknown {
  if (!object) return undefined;
  const value = object[camel];
  return value !== undefined ? value : snake !== undefined ? object[snake] : undefined;
}

export function optionalObject(value: unknown, what: string): JsonObject | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw new InvalidArgumentError(`${what} must be an object`);
  return value as JsonObject;
}

export function optionalString(value: unknown, what: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new InvalidArgumentError(`${what} must be a string`);
  return value;
}

export function requiredString(value: unknown, what: string): string {
  const text = optionalString(value, what);
  if (text === undefined || text.length === 0) throw new InvalidArgumentError(`${what} is required`);
  return text;
}

export function optionalUint(value: unknown, what: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  const number = typeof value === 'string' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < 0 || number > 0xffffffff) {
    throw new InvalidArgumentError(`${what} must be a non-negative integer`);
  }
  return number;
}

export function optionalBool(value: unknown, what: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw new InvalidArgumentError(`${what} must be a boolean`);
  return value;
}

export function stringArray(value: unknown, what: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) throw new InvalidArgumentError(`${what} must be a list of strings`);
  return value as string[];
}

export function stringMapField(value: unknown, what: string): Record<string, string> {
  const object = optionalObject(value, what);
  const out: Record<string, string> = {};
  for (const [key, entry] of Object.entries(object ?? {})) {
    if (typeof entry !== 'string') throw new InvalidArgumentError(`${what}.${key} must be a string`);
    out[key] = entry;
  }
  return out;
}

export function bytesField(value: unknown, what: string): Buffer {
  if (value === undefined || value === null) return Buffer.alloc(0);
  if (typeof value !== 'string') throw new InvalidArgumentError(`${what} must be base64 bytes`);
  return Buffer.from(value, 'base64');
}

/** An enum given by name or number, mapped through names → numbers. */
export function enumField(value: unknown, names: Record<string, number>, what: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' && Object.values(names).includes(value)) return value;
  if (typeof value === 'string' && value in names) return names[value];
  throw new InvalidArgumentError(`${what} has an unknown value ${JSON.stringify(value)}`);
}
