// Tells a booted or restored guest who it is: hostname, base environment, fresh entropy (clones of one
// snapshot must never share randomness), the wall clock (a restored guest wakes at its snapshot's time), and
// its network: eth0's MAC, address and route taken over from the sandbox's namespace, the resolver, a CA to trust.
import { randomBytes } from 'node:crypto';
import { Fields } from '../../supervisor/frame-codec.js';
import { FieldTag, FrameType } from '../../supervisor/protocol.js';
import { SupervisorClient } from '../../supervisor/supervisor-client.js';

const ENTROPY_BYTES = 64;

export interface GuestNetworkIdentity {
  mac: string;
  /** `a.b.c.d/prefix` */
  cidr: string;
  gateway: string;
  nameserver?: string;
  trustedCaPem?: string;
}

export interface GuestIdentity {
  /** Absent: unchanged (a resumed guest keeps its own). */
  hostname?: string;
  /** Absent or empty: unchanged. */
  baseEnv?: Record<string, string>;
  network?: GuestNetworkIdentity;
  /** no_new_privs for every process of the sandbox (set on PID 1, which only the guest's next boot clears). */
  noNewPrivileges?: boolean;
}

export async function identifyGuest(channelSocket: string, identity: GuestIdentity, connectTimeoutMs: number): Promise<void> {
  const client = await SupervisorClient.connect({ socketPath: channelSocket, connectTimeoutMs });
  try {
    const fields = new Fields();
    if (identity.hostname !== undefined) fields.add(FieldTag.name, identity.hostname);
    fields
      .addAll(FieldTag.env, Object.entries(identity.baseEnv ?? {}).map(([key, value]) => `${key}=${value}`))
      .add(FieldTag.data, randomBytes(ENTROPY_BYTES))
      .add(FieldTag.mtimeNs, BigInt(Date.now()) * 1_000_000n);
    if (identity.noNewPrivileges) fields.add(FieldTag.noNewPrivileges, 1);
    const net = identity.network;
    if (net) {
      fields.add(FieldTag.netMac, net.mac).add(FieldTag.netAddress, net.cidr).add(FieldTag.netGateway, net.gateway);
      if (net.nameserver) fields.add(FieldTag.nameserver, net.nameserver);
      if (net.trustedCaPem) fields.add(FieldTag.trustedCa, net.trustedCaPem);
    }
    await client.request(FrameType.identify, fields);
  } finally {
    client.close();
  }
}
