// Egress policy of one sandbox (E2B's `network.allowOut` / `denyOut` / `allowInternetAccess`) and the decision
// for one outbound connection. Allowed entries take precedence over denied ones, as in E2B.
import net from 'node:net';
import { InvalidArgumentError } from '../errors/hearth-error.js';
import { cidrContains, isNeverReachable, isPrivate, parseCidr, type Cidr } from './ipv4.js';

export type EgressRule = { kind: 'cidr'; cidr: Cidr; text: string } | { kind: 'domain'; pattern: string; text: string };

export interface EgressPolicy {
  allow: EgressRule[];
  deny: EgressRule[];
}

export const OPEN_POLICY: EgressPolicy = { allow: [], deny: [] };

const MAX_RULES = 256;
const DOMAIN_PATTERN = /^(\*\.)?([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/;

export function parseEgressRule(text: unknown, field: string): EgressRule {
  if (typeof text !== 'string' || text.length === 0 || text.length > 253) {
    throw new InvalidArgumentError(`${field}: every entry must be a CIDR block, an IPv4 address or a domain name`);
  }
  const trimmed = text.trim().toLowerCase();
  if (/^[\d./]+$/.test(trimmed)) {
    const cidr = parseCidr(trimmed);
    if (!cidr) throw new InvalidArgumentError(`${field}: "${text}" is not a valid IPv4 address or CIDR block`);
    return { kind: 'cidr', cidr, text: cidr.text };
  }
  if (net.isIPv6(trimmed) || trimmed.includes(':')) throw new InvalidArgumentError(`${field}: "${text}": IPv6 is not routed to sandboxes, only IPv4 rules apply`);
  if (trimmed === '*' || !DOMAIN_PATTERN.test(trimmed)) {
    throw new InvalidArgumentError(`${field}: "${text}" is not a domain name (wildcards are a leading "*." only)`);
  }
  return { kind: 'domain', pattern: trimmed, text: trimmed };
}

function parseRules(value: unknown, field: string): EgressRule[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new InvalidArgumentError(`${field} must be an array of strings`);
  if (value.length > MAX_RULES) throw new InvalidArgumentError(`${field} holds ${value.length} entries; the limit is ${MAX_RULES}`);
  return value.map((entry) => parseEgressRule(entry, field));
}

export function parseEgressPolicy(allowOut: unknown, denyOut: unknown, allowInternetAccess: boolean | undefined): EgressPolicy {
  const deny = parseRules(denyOut, 'network.denyOut');
  if (allowInternetAccess === false && !deny.some((rule) => rule.kind === 'cidr' && rule.cidr.prefixLength === 0)) {
    const all = parseCidr('0.0.0.0/0');
    if (all) deny.push({ kind: 'cidr', cidr: all, text: all.text });
  }
  return { allow: parseRules(allowOut, 'network.allowOut'), deny };
}

/** E2B's wildcard meaning: `*.example.com` matches subdomains at any depth, never the apex. */
export function domainMatches(pattern: string, name: string): boolean {
  const host = name.toLowerCase().replace(/\.$/, '');
  if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1;
  return host === pattern;
}

function matches(rule: EgressRule, address: string, names: readonly string[]): boolean {
  return rule.kind === 'cidr' ? cidrContains(rule.cidr, address) : names.some((name) => domainMatches(rule.pattern, name));
}

export function internetBlocked(policy: EgressPolicy): boolean {
  return policy.deny.some((rule) => rule.kind === 'cidr' && rule.cidr.prefixLength === 0);
}

export interface EgressVerdict {
  allowed: boolean;
  /** Why, in a few words; goes to the audit log. */
  reason: string;
}

/**
 * `names` are the domains this connection is known to be for: the TLS SNI or HTTP Host (already checked to
 * resolve to `address`), else the names this sandbox looked up and got `address` for.
 */
export function decideConnection(policy: EgressPolicy, address: string, names: readonly string[], sandboxSubnet: Cidr): EgressVerdict {
  if (isNeverReachable(address, sandboxSubnet)) return { allowed: false, reason: 'host, loopback, link-local or sandbox address' };
  const allowedBy = policy.allow.find((rule) => matches(rule, address, names));
  if (allowedBy) return { allowed: true, reason: `allowOut ${allowedBy.text}` };
  const deniedBy = policy.deny.find((rule) => matches(rule, address, names));
  if (deniedBy) return { allowed: false, reason: `denyOut ${deniedBy.text}` };
  if (isPrivate(address)) return { allowed: false, reason: 'private address not in allowOut' };
  return { allowed: true, reason: 'no rule denies it' };
}

/** Whether a DNS lookup of `name` is answered: refused only when the name could never be connected to. */
export function decideLookup(policy: EgressPolicy, name: string): EgressVerdict {
  const allowedBy = policy.allow.find((rule) => rule.kind === 'domain' && domainMatches(rule.pattern, name));
  if (allowedBy) return { allowed: true, reason: `allowOut ${allowedBy.text}` };
  const deniedBy = policy.deny.find((rule) => rule.kind === 'domain' && domainMatches(rule.pattern, name));
  if (deniedBy) return { allowed: false, reason: `denyOut ${deniedBy.text}` };
  if (internetBlocked(policy) && !policy.allow.some((rule) => rule.kind === 'cidr')) return { allowed: false, reason: 'denyOut 0.0.0.0/0 and no allowOut for this name' };
  return { allowed: true, reason: 'no rule denies it' };
}

export function policyToJson(policy: EgressPolicy): { allowOut: string[]; denyOut: string[] } {
  return { allowOut: policy.allow.map((rule) => rule.text), denyOut: policy.deny.map((rule) => rule.text) };
}

export function policyFromJson(json: { allowOut?: string[]; denyOut?: string[] } | undefined): EgressPolicy {
  return json ? parseEgressPolicy(json.allowOut, json.denyOut, undefined) : OPEN_POLICY;
}
