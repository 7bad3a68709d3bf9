// Validation of E2B's `network` / `allowInternetAccess` create options and network updates, plus Hearth's
// `secrets` grants, into the settings a sandbox record keeps.
import type { SandboxNetworkRequest } from '../../core/commands.js';
import { InvalidArgumentError, UnsupportedError } from '../../errors/hearth-error.js';
import { parseEgressPolicy, parseEgressRule, policyToJson } from '../../network/egress-policy.js';
import { checkSecretName } from '../../secrets/secret-service.js';
import type { HeaderTransformRecord } from '../../store/store.js';
import { asObject, stringMap } from './request-parsing.js';

const MAX_RULE_HOSTS = 64;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function optionalBoolean(value: unknown, field: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw new InvalidArgumentError(`${field} must be true or false`);
  return value;
}

function parseHeaderRules(value: unknown): Record<string, HeaderTransformRecord[]> {
  if (value === undefined || value === null) return {};
  const object = asObject(value, 'network.rules');
  const entries = Object.entries(object);
  if (entries.length > MAX_RULE_HOSTS) throw new InvalidArgumentError(`network.rules names ${entries.length} hosts; the limit is ${MAX_RULE_HOSTS}`);
  const rules: Record<string, HeaderTransformRecord[]> = {};
  for (const [host, list] of entries) {
    const rule = parseEgressRule(host, 'network.rules');
    if (rule.kind !== 'domain') throw new InvalidArgumentError(`network.rules: "${host}" must be a domain name or "*.domain"`);
    if (!Array.isArray(list)) throw new InvalidArgumentError(`network.rules["${host}"] must be an array of rules`);
    rules[rule.pattern] = list.map((entry, index) => {
      const transform = asObject(asObject(entry, `network.rules["${host}"][${index}]`)['transform'] ?? {}, `network.rules["${host}"][${index}].transform`);
      const headers = stringMap(transform['headers'], `network.rules["${host}"][${index}].transform.headers`);
      for (const name of Object.keys(headers)) {
        if (!HEADER_NAME.test(name)) throw new InvalidArgumentError(`network.rules["${host}"]: "${name}" is not a valid header name`);
        if (/[\r\n]/.test(headers[name] ?? '')) throw new InvalidArgumentError(`network.rules["${host}"]: header ${name} contains a line break`);
      }
      return { headers };
    });
  }
  return rules;
}

function parseSecretGrants(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new InvalidArgumentError('secrets must be an array of secret names');
  return [...new Set(value.map((name, index) => checkSecretName(name, `secrets[${index}]`)))];
}

function rejectUnsupported(network: Record<string, unknown>): void {
  if (network['egressProxy'] !== undefined && network['egressProxy'] !== null) {
    throw new UnsupportedError('network.egressProxy', 'Hearth does not tunnel egress through a SOCKS5 proxy; its own egress proxy enforces allowOut/denyOut');
  }
  const httpsPorts = network['httpsPorts'];
  if (Array.isArray(httpsPorts) && httpsPorts.length > 0) {
    throw new UnsupportedError('network.httpsPorts', 'ports are forwarded as plain HTTP and WebSocket; serve plain HTTP inside the sandbox');
  }
}

/** The create body's `network`, `allowInternetAccess` and `secrets`. */
export function parseCreateNetwork(body: Record<string, unknown>): SandboxNetworkRequest {
  const network = body['network'] === undefined || body['network'] === null ? {} : asObject(body['network'], 'network');
  rejectUnsupported(network);
  // the SDK sends allow_internet_access; E2B's REST schema names it allowInternetAccess
  const allowInternetAccess = optionalBoolean(body['allow_internet_access'] ?? body['allowInternetAccess'], 'allow_internet_access');
  const policy = parseEgressPolicy(network['allowOut'], network['denyOut'], allowInternetAccess);
  const maskRequestHost = network['maskRequestHost'];
  if (maskRequestHost !== undefined && maskRequestHost !== null && typeof maskRequestHost !== 'string') {
    throw new InvalidArgumentError('network.maskRequestHost must be a string');
  }
  return {
    ...policyToJson(policy),
    rules: parseHeaderRules(network['rules']),
    allowPublicTraffic: optionalBoolean(network['allowPublicTraffic'], 'network.allowPublicTraffic') ?? true,
    maskRequestHost: typeof maskRequestHost === 'string' ? maskRequestHost : null,
    secrets: parseSecretGrants(body['secrets']),
  };
}

export interface NetworkUpdate {
  allowOut: string[];
  denyOut: string[];
  rules: Record<string, HeaderTransformRecord[]>;
}

/** `PUT /sandboxes/{id}/network`: replaces the egress rules; omitted fields are cleared (E2B semantics). */
export function parseNetworkUpdate(body: unknown): NetworkUpdate {
  const object = asObject(body, 'request body');
  rejectUnsupported(object);
  const policy = parseEgressPolicy(object['allowOut'], object['denyOut'], optionalBoolean(object['allow_internet_access'] ?? object['allowInternetAccess'], 'allow_internet_access'));
  return { ...policyToJson(policy), rules: parseHeaderRules(object['rules']) };
}
