// The nftables ruleset that confines sandbox traffic: every TCP connection goes to the egress proxy, DNS to
// Hearth's resolver, the metadata address to the metadata service; nothing else (no UDP, no ICMP, no IPv6)
// leaves or reaches the host. Traffic from the host to a sandbox (port forwarding) needs no rule.
import { METADATA_ADDRESS, type NetworkLayout } from './network-layout.js';

export interface FirewallPorts {
  egressProxyPort: number;
  dnsPort: number;
  metadataPort: number;
}

export function firewallTableName(layout: NetworkLayout): string {
  return `hearth_${layout.bridge}`;
}

/** A script for `nft -f -` that replaces Hearth's table for this bridge atomically. */
export function renderFirewall(layout: NetworkLayout, ports: FirewallPorts): string {
  const table = firewallTableName(layout);
  const bridge = `"${layout.bridge}"`;
  const gateway = layout.gateway;
  return `table ip ${table}
delete table ip ${table}
table ip ${table} {
  chain sandbox_prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    iifname ${bridge} ip daddr ${METADATA_ADDRESS} tcp dport 80 dnat to ${gateway}:${ports.metadataPort}
    iifname ${bridge} udp dport 53 dnat to ${gateway}:${ports.dnsPort}
    iifname ${bridge} ip daddr != ${gateway} meta l4proto tcp redirect to :${ports.egressProxyPort}
  }
  chain sandbox_input {
    type filter hook input priority filter; policy accept;
    iifname ${bridge} ct state established,related accept
    iifname ${bridge} tcp dport { ${ports.egressProxyPort}, ${ports.metadataPort} } accept
    iifname ${bridge} udp dport ${ports.dnsPort} accept
    iifname ${bridge} counter drop
  }
  chain sandbox_forward {
    type filter hook forward priority filter; policy accept;
    iifname ${bridge} counter drop
    oifname ${bridge} counter drop
  }
}
table bridge ${table}
delete table bridge ${table}
table bridge ${table} {
  chain sandbox_port_input {
    type filter hook input priority filter; policy accept;
    iifname "${layout.bridge}v*" ether type != { ip, arp } counter drop
  }
  chain sandbox_port_forward {
    type filter hook forward priority filter; policy accept;
    iifname "${layout.bridge}v*" ether type != { ip, arp } counter drop
  }
}
`;
}

export function renderFirewallRemoval(layout: NetworkLayout): string {
  const table = firewallTableName(layout);
  return `table ip ${table}\ndelete table ip ${table}\ntable bridge ${table}\ndelete table bridge ${table}\n`;
}
