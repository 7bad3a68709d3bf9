// Sandbox networking as one unit: bridge, firewall, prepared namespaces, and the host services behind the
// gateway (DNS, egress proxy, metadata). The sandbox service asks it for a namespace before starting a
// sandbox and tells it which sandbox holds which address and policy.
import { promises as fs } from 'node:fs';
import tls from 'node:tls';
import type { Logger } from '../core/logger.js';
import { EgressCertificateAuthority } from './egress-certificate-authority.js';
import type { SecretService } from '../secrets/secret-service.js';
import type { SandboxRecord, Store } from '../store/store.js';
import { storeEgressAudit } from './egress-audit.js';
import { parseEgressPolicy } from './egress-policy.js';
import { EgressProxy } from './egress-proxy.js';
import { applyFirewall, checkNetworkHost, ensureBridge, removeBridgeAndFirewall } from './host-bridge.js';
import { MetadataService } from './metadata-service.js';
import { networkLayout, type NetworkLayout } from './network-layout.js';
import { NetnsSlots, type NetnsSlot } from './netns-slots.js';
import { SandboxDnsServer } from './sandbox-dns-server.js';
import { SandboxNetworkRegistry, type SandboxNetworkEntry } from './sandbox-network-registry.js';
import { UpstreamResolver, type UpstreamServer } from './upstream-resolver.js';

export interface SandboxNetworkOptions {
  bridge: string;
  subnet: string;
  /** Prepared namespaces kept ready so a cold start does not wait for one. */
  spareNamespaces: number;
  upstreams: UpstreamServer[];
  /** Names the sandbox resolver answers itself (name → addresses), before asking upstream. */
  staticHosts: Map<string, string[]>;
  /** Where the egress proxy's CA key and certificate live (beside the secrets key, outside the database). */
  certificateDir: string;
  /** Extra CA certificates (a PEM file) to trust for upstream servers when the proxy terminates TLS. */
  upstreamCaFile: string | undefined;
}

export class SandboxNetworkManager {
  private constructor(
    readonly layout: NetworkLayout,
    private readonly registry: SandboxNetworkRegistry,
    private readonly slots: NetnsSlots,
    private readonly services: { close(): void }[],
    private readonly log: Logger,
    /** Sandboxes trust this CA, so the egress proxy can apply header rules to HTTPS requests. */
    readonly trustedCaPem: string,
  ) {}

  static async start(options: SandboxNetworkOptions, store: Store, secrets: SecretService, log: Logger): Promise<SandboxNetworkManager> {
    await checkNetworkHost();
    const layout = networkLayout(options.bridge, options.subnet);
    await ensureBridge(layout);
    const registry = new SandboxNetworkRegistry();
    const resolver = new UpstreamResolver(options.upstreams, options.staticHosts);
    const audit = storeEgressAudit(store, log);
    const secretValue = async (sandbox: SandboxNetworkEntry, name: string): Promise<string | undefined> => {
      const current = registry.bySandboxId(sandbox.sandboxId);
      return current?.secrets.has(name) ? secrets.value(name) : undefined;
    };
    const dns = new SandboxDnsServer(registry, resolver, audit, log);
    const certificateAuthority = await EgressCertificateAuthority.open(options.certificateDir);
    const upstreamCaPems = [...tls.rootCertificates, ...(options.upstreamCaFile ? [await fs.readFile(options.upstreamCaFile, 'utf8')] : [])];
    const proxy = new EgressProxy({ registry, resolver, audit, sandboxSubnet: layout.subnet, secretValue, certificateAuthority, upstreamCaPems, log });
    const metadata = new MetadataService({ registry, secretValue, log });
    const ports = {
      dnsPort: await dns.listen(layout.gateway),
      egressProxyPort: await proxy.listen(layout.gateway),
      metadataPort: await metadata.listen(layout.gateway),
    };
    await applyFirewall(layout, ports);
    const slots = new NetnsSlots(layout, options.spareNamespaces, log);
    log.info(`sandbox network: bridge ${layout.bridge} ${layout.subnet.text}, gateway ${layout.gateway}`);
    return new SandboxNetworkManager(layout, registry, slots, [dns, proxy, metadata], log, certificateAuthority.certificatePem);
  }

  /** After a restart: namespaces of sandboxes still alive stay theirs, the rest become spares. */
  async recover(live: readonly SandboxRecord[]): Promise<void> {
    const inUse = new Set<number>();
    for (const record of live) {
      if (record.network.slotIndex !== undefined) inUse.add(record.network.slotIndex);
      this.attach(record);
    }
    await this.slots.recover(inUse);
  }

  claim(): Promise<NetnsSlot> {
    return this.slots.claim();
  }

  slot(index: number): NetnsSlot {
    return this.slots.slot(index);
  }

  /** Makes the host services answer this sandbox with its current policy, rules and grants. */
  attach(record: SandboxRecord): void {
    const { address } = record.network;
    if (!address) return;
    this.registry.set({
      sandboxId: record.id,
      address,
      policy: parseEgressPolicy(record.network.allowOut, record.network.denyOut, undefined),
      rules: record.network.rules,
      secrets: new Set(record.network.secrets),
    });
  }

  /** Forgets the sandbox and, once its processes are gone, reuses its namespace. */
  release(record: SandboxRecord): void {
    const { address, slotIndex } = record.network;
    if (address && this.registry.get(address)?.sandboxId === record.id) this.registry.remove(address);
    if (slotIndex !== undefined) this.slots.release(this.slots.slot(slotIndex));
  }

  /** Stops the host services; with `teardown` also removes spare namespaces, the firewall table and the bridge. */
  async close(options: { teardown: boolean }): Promise<void> {
    for (const service of this.services) service.close();
    if (options.teardown) {
      await this.slots.removeSpares();
      await removeBridgeAndFirewall(this.layout);
    } else {
      await this.slots.stop();
    }
    this.log.info(`sandbox network ${this.layout.bridge} ${options.teardown ? 'removed' : 'left in place for the next start'}`);
  }
}
