// Where sandbox networks live: the bridge, its subnet and gateway, and which address and namespace each slot gets.
import { InvalidArgumentError } from '../errors/hearth-error.js';
import { numberToIpv4, parseCidr, type Cidr } from './ipv4.js';

export interface NetworkLayout {
  /** Host bridge every sandbox's veth is attached to (also prefixes namespace and veth names). */
  bridge: string;
  subnet: Cidr;
  /** The bridge's own address: the sandboxes' default route, DNS server, egress proxy and metadata service. */
  gateway: string;
  /** How many sandbox addresses the subnet holds. */
  capacity: number;
}

/** The link-local address sandboxes reach their metadata service at, as on cloud instances. */
export const METADATA_ADDRESS = '169.254.169.254';

/** Debian's CA bundle inside a sandbox, which curl, openssl, Python (REQUESTS_CA_BUNDLE) and Node (NODE_EXTRA_CA_CERTS) read. */
export const CA_BUNDLE_PATH = '/etc/ssl/certs/ca-certificates.crt';

export function networkLayout(bridge: string, subnetText: string): NetworkLayout {
  if (!/^[a-z][a-z0-9]{0,7}$/.test(bridge)) {
    throw new InvalidArgumentError(`bridge name "${bridge}" must be 1-8 lowercase letters and digits, starting with a letter`);
  }
  const subnet = parseCidr(subnetText);
  if (!subnet || !subnetText.includes('/') || subnet.prefixLength > 28 || subnet.prefixLength < 8) {
    throw new InvalidArgumentError(`sandbox subnet "${subnetText}" must be an IPv4 CIDR block from /8 to /28`);
  }
  // network address, gateway (.1) and broadcast are not sandbox addresses
  const capacity = 2 ** (32 - subnet.prefixLength) - 3;
  return { bridge, subnet, gateway: numberToIpv4(subnet.base + 1), capacity };
}

/** Slot N (from 1) uses address base+1+N, namespace /run/netns/<bridge>-N and host-side veth <bridge>vN. */
export function slotAddress(layout: NetworkLayout, index: number): string {
  return numberToIpv4(layout.subnet.base + 1 + index);
}

export function slotNamespace(layout: NetworkLayout, index: number): string {
  return `${layout.bridge}-${index}`;
}

export function slotVeth(layout: NetworkLayout, index: number): string {
  return `${layout.bridge}v${index}`;
}

export function slotIndexOfNamespace(layout: NetworkLayout, name: string): number | undefined {
  const match = new RegExp(`^${layout.bridge}-(\\d+)$`).exec(name);
  return match ? Number(match[1]) : undefined;
}
