// What the host-side network services know about each sandbox, by its bridge address: who it is, its egress
// policy, header rules and secret grants, the names it looked up, and its metadata-service tokens.
import type { HeaderTransformRecord } from '../store/store.js';
import type { EgressPolicy } from './egress-policy.js';

const MIN_LOOKUP_TTL_MS = 60_000;
const MAX_LOOKUP_TTL_MS = 3_600_000;

export interface SandboxNetworkEntry {
  sandboxId: string;
  address: string;
  policy: EgressPolicy;
  rules: Record<string, HeaderTransformRecord[]>;
  secrets: ReadonlySet<string>;
}

interface Tracked extends SandboxNetworkEntry {
  /** resolved address → name → expiry, from this sandbox's own DNS lookups */
  lookups: Map<string, Map<string, number>>;
  /** metadata token → expiry */
  tokens: Map<string, number>;
}

export class SandboxNetworkRegistry {
  private readonly byAddress = new Map<string, Tracked>();

  /** Adds or replaces a sandbox's settings; lookups and tokens survive a replacement for the same sandbox. */
  set(entry: SandboxNetworkEntry): void {
    const previous = this.byAddress.get(entry.address);
    const keep = previous?.sandboxId === entry.sandboxId;
    this.byAddress.set(entry.address, { ...entry, lookups: keep ? previous.lookups : new Map(), tokens: keep ? previous.tokens : new Map() });
  }

  remove(address: string): void {
    this.byAddress.delete(address);
  }

  get(address: string | undefined): SandboxNetworkEntry | undefined {
    return address === undefined ? undefined : this.byAddress.get(address);
  }

  bySandboxId(sandboxId: string): SandboxNetworkEntry | undefined {
    for (const entry of this.byAddress.values()) if (entry.sandboxId === sandboxId) return entry;
    return undefined;
  }

  recordLookup(address: string, name: string, resolved: readonly string[], ttlSeconds: number): void {
    const tracked = this.byAddress.get(address);
    if (!tracked) return;
    const expiresAtMs = Date.now() + Math.min(MAX_LOOKUP_TTL_MS, Math.max(MIN_LOOKUP_TTL_MS, ttlSeconds * 1000));
    for (const ip of resolved) {
      let names = tracked.lookups.get(ip);
      if (!names) tracked.lookups.set(ip, (names = new Map()));
      names.set(name, expiresAtMs);
    }
  }

  /** Names this sandbox looked up and was answered `ip` for, still within their TTL. */
  namesFor(address: string, ip: string): string[] {
    const names = this.byAddress.get(address)?.lookups.get(ip);
    if (!names) return [];
    const nowMs = Date.now();
    return [...names].filter(([, expiresAtMs]) => expiresAtMs > nowMs).map(([name]) => name);
  }

  issueToken(address: string, token: string, ttlMs: number): void {
    this.byAddress.get(address)?.tokens.set(token, Date.now() + ttlMs);
  }

  tokenValid(address: string, token: string): boolean {
    const expiresAtMs = this.byAddress.get(address)?.tokens.get(token);
    return expiresAtMs !== undefined && expiresAtMs > Date.now();
  }
}
