// The host side of sandbox networking: the bridge with the gateway address, and the firewall table.
import { existsSync, promises as fs } from 'node:fs';
import { BackendMisconfiguredError } from '../errors/hearth-error.js';
import { renderFirewall, renderFirewallRemoval, type FirewallPorts } from './firewall-rules.js';
import { runHostCommand } from './host-command.js';
import type { NetworkLayout } from './network-layout.js';

export async function checkNetworkHost(): Promise<void> {
  for (const [tool, pkg] of [['/usr/sbin/ip', 'iproute2'], ['/usr/sbin/nft', 'nftables']] as const) {
    if (!existsSync(tool)) throw new BackendMisconfiguredError(`${tool} is missing: install the Debian package ${pkg} (or run with --network none)`);
  }
  if (!existsSync('/proc/net/nf_conntrack')) await runHostCommand('modprobe', ['nf_conntrack']).catch(() => undefined);
  if (!existsSync('/proc/net/nf_conntrack')) {
    throw new BackendMisconfiguredError('/proc/net/nf_conntrack is missing: the egress proxy needs connection tracking (modprobe nf_conntrack), or run with --network none');
  }
}

export async function ensureBridge(layout: NetworkLayout): Promise<void> {
  if (!existsSync(`/sys/class/net/${layout.bridge}`)) await runHostCommand('ip', ['link', 'add', layout.bridge, 'type', 'bridge']);
  await runHostCommand('ip', ['-batch', '-'], [`addr replace ${layout.gateway}/${layout.subnet.prefixLength} dev ${layout.bridge}`, `link set ${layout.bridge} up`].join('\n'));
  // sandboxes get no IPv6: nothing may reach the host over a link-local address either
  await fs.writeFile(`/proc/sys/net/ipv6/conf/${layout.bridge}/disable_ipv6`, '1').catch(() => undefined);
}

export async function applyFirewall(layout: NetworkLayout, ports: FirewallPorts): Promise<void> {
  await runHostCommand('nft', ['-f', '-'], renderFirewall(layout, ports));
}

export async function removeBridgeAndFirewall(layout: NetworkLayout): Promise<void> {
  await runHostCommand('nft', ['-f', '-'], renderFirewallRemoval(layout)).catch(() => undefined);
  if (existsSync(`/sys/class/net/${layout.bridge}`)) await runHostCommand('ip', ['link', 'delete', layout.bridge]).catch(() => undefined);
}
