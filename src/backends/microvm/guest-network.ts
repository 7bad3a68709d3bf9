// The sandbox's network for a microVM guest. QEMU runs in a private network namespace where it creates its tap;
// the tap then moves into the sandbox's prepared namespace and tc redirects every frame between it and that
// namespace's eth0 (both ways, at ingress), so the guest sits on the bridge exactly where a namespaces sandbox
// would. The guest takes over eth0's MAC and address (IDENTIFY): the host's DNS, egress proxy, firewall and
// metadata service key on that address and work unchanged. Stop removes the redirect, so the slot can be reused.
import { InternalError } from '../../errors/hearth-error.js';
import { HostShell } from '../../network/host-shell.js';
import { GUEST_TAP } from './qemu-command.js';

export interface SandboxAddress {
  mac: string;
  cidr: string;
  gateway: string;
}

function quote(value: string): string {
  if (!/^[A-Za-z0-9_./-]+$/.test(value)) throw new InternalError(`unexpected characters in network namespace path ${value}`);
  return value;
}

const REDIRECT = (from: string, to: string): string =>
  `tc qdisc replace dev ${from} ingress && tc filter add dev ${from} parent ffff: protocol all u32 match u32 0 0 action mirred egress redirect dev ${to}`;

export class GuestNetworks {
  private readonly shell = new HostShell();

  /** Moves QEMU's tap into `netnsPath`, wires it to eth0 and returns what the guest must take over. */
  async plug(qemuPid: number, netnsPath: string): Promise<SandboxAddress> {
    const netns = quote(netnsPath);
    const output = await this.shell.run(
      [
        `nsenter --net=/proc/${qemuPid}/ns/net ip link set ${GUEST_TAP} netns ${netns}`,
        `nsenter --net=${netns} sh -c '${[`ip link set ${GUEST_TAP} up`, REDIRECT('eth0', GUEST_TAP), REDIRECT(GUEST_TAP, 'eth0'),
          'cat /sys/class/net/eth0/address', 'ip -o -4 addr show dev eth0', 'ip -4 route show default'].join(' && ')}'`,
      ].join(' && '),
    );
    const mac = /^([0-9a-f]{2}(?::[0-9a-f]{2}){5})$/m.exec(output)?.[1];
    const cidr = /\binet (\d+\.\d+\.\d+\.\d+\/\d+)/.exec(output)?.[1];
    const gateway = /^default via (\d+\.\d+\.\d+\.\d+)/m.exec(output)?.[1];
    if (!mac || !cidr || !gateway) throw new InternalError(`sandbox network namespace ${netnsPath} has no eth0 address or default route: ${output.trim()}`);
    return { mac, cidr, gateway };
  }

  /** Undoes plug (the tap itself goes with its QEMU); harmless when nothing was plugged. */
  async unplug(netnsPath: string): Promise<void> {
    const netns = quote(netnsPath);
    await this.shell.run(`nsenter --net=${netns} sh -c 'tc qdisc del dev eth0 ingress 2>/dev/null; ip link del ${GUEST_TAP} 2>/dev/null; true'`).catch(() => undefined);
  }

  close(): void {
    this.shell.close();
  }
}
