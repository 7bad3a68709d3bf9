// E2B's per-host header transforms (`network.rules`): which rule set applies to a host, and expanding
// `{{ secrets.NAME }}` placeholders at request time (so a revoked secret stops being injected at once).
import type { HeaderTransformRecord } from '../store/store.js';
import { domainMatches } from './egress-policy.js';

const PLACEHOLDER = /\{\{\s*secrets\.([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}/g;

/** Exact host first, then the longest matching `*.` wildcard; rule sets are not merged. */
export function rulesForHost(rules: Record<string, HeaderTransformRecord[]>, host: string): HeaderTransformRecord[] | undefined {
  const name = host.toLowerCase();
  if (rules[name]) return rules[name];
  const wildcard = Object.keys(rules)
    .filter((pattern) => pattern.startsWith('*.') && domainMatches(pattern, name))
    .sort((a, b) => b.length - a.length)[0];
  return wildcard ? rules[wildcard] : undefined;
}

export function secretsReferenced(value: string): string[] {
  return [...value.matchAll(PLACEHOLDER)].map((match) => match[1] ?? '');
}

export class MissingSecretError extends Error {
  constructor(readonly secretName: string) {
    super(`secret "${secretName}" is not granted to this sandbox or was revoked`);
  }
}

/** Header name → value with placeholders expanded; throws MissingSecretError when one cannot be. */
export async function expandHeaders(
  transforms: readonly HeaderTransformRecord[],
  secretValue: (name: string) => Promise<string | undefined>,
): Promise<Map<string, string>> {
  const headers = new Map<string, string>();
  for (const transform of transforms) {
    for (const [name, template] of Object.entries(transform.headers)) {
      let value = template;
      for (const secretName of secretsReferenced(template)) {
        const secret = await secretValue(secretName);
        if (secret === undefined) throw new MissingSecretError(secretName);
        value = value.split(new RegExp(`\\{\\{\\s*secrets\\.${secretName.replace(/[.]/g, '\\.')}\\s*\\}\\}`, 'g')).join(secret);
      }
      headers.set(name.toLowerCase(), value);
    }
  }
  return headers;
}
