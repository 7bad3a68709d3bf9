// Validation of control-plane request bodies and queries into typed commands.
import { InvalidArgumentError } from '../../errors/hearth-error.js';
import type { CreateSandboxCommand, ListSandboxesCommand } from '../../core/commands.js';
import { parseToolDefinitions } from '../../core/tool-definitions.js';
import { parseLimits } from './limit-parsing.js';
import { parseBackendKind } from '../../backends/backend-kinds.js';
import { parseCreateNetwork } from './network-parsing.js';

export function asObject(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError(`${what} must be a JSON object`);
  }
  return value as Record<string, unknown>;
}

export function stringMap(value: unknown, what: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  const object = asObject(value, what);
  const out: Record<string, string> = {};
  for (const [key, entry] of Object.entries(object)) {
    if (typeof entry !== 'string') throw new InvalidArgumentError(`${what}.${key} must be a string`);
    out[key] = entry;
  }
  return out;
}

/** A timeout in whole seconds, as E2B sends it, converted to milliseconds. */
export function timeoutSeconds(value: unknown, what: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new InvalidArgumentError(`${what} must be a non-negative integer number of seconds`);
  }
  return value * 1000;
}

function parseBoolean(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw new InvalidArgumentError(`${field} must be true or false`);
  return value;
}

export function parseCreate(body: unknown, defaultTimeoutMs: number): CreateSandboxCommand {
  const object = asObject(body, 'request body');
  const templateId = object['templateID'] ?? 'base';
  if (typeof templateId !== 'string' || templateId.length === 0 || templateId.length > 128) {
    throw new InvalidArgumentError('templateID must be a non-empty string');
  }
  const timeoutMs = timeoutSeconds(object['timeout'], 'timeout');
  return {
    kind: 'create',
    templateId,
    timeoutMs: timeoutMs === undefined || timeoutMs === 0 ? defaultTimeoutMs : timeoutMs,
    metadata: stringMap(object['metadata'], 'metadata'),
    envVars: stringMap(object['envVars'], 'envVars'),
    autoPause: object['autoPause'] === true,
    tools: object['tools'] === undefined ? [] : parseToolDefinitions(object['tools']),
    limits: parseLimits(object),
    network: parseCreateNetwork(object),
    ...(object['backend'] === undefined ? {} : { backend: parseBackendKind(object['backend'], 'backend') }),
    ...(object['noNewPrivileges'] === undefined ? {} : { noNewPrivileges: parseBoolean(object['noNewPrivileges'], 'noNewPrivileges') }),
  };
}

function decodeComponent(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** E2B sends the metadata filter as one query value `k=v&k2=v2` whose keys and values were URI-encoded once more. */
export function parseMetadataQuery(raw: string | null): Record<string, string> {
  if (!raw) return {};
  const out: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(raw)) out[decodeComponent(key)] = decodeComponent(value);
  return out;
}

export function parseList(url: URL): ListSandboxesCommand {
  const stateParam = url.searchParams.getAll('state').flatMap((value) => value.split(',')).filter(Boolean);
  const states = stateParam.map((state) => {
    if (state !== 'running' && state !== 'paused') throw new InvalidArgumentError(`state "${state}" is not one of running, paused`);
    return state;
  });
  const limitRaw = url.searchParams.get('limit');
  let limit: number | undefined;
  if (limitRaw !== null) {
    limit = Number(limitRaw);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new InvalidArgumentError('limit must be an integer from 1 to 1000');
  }
  return {
    kind: 'list',
    metadata: parseMetadataQuery(url.searchParams.get('metadata')),
    states,
    limit,
    nextToken: url.searchParams.get('nextToken') ?? undefined,
  };
}
