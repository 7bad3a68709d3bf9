// Prepared network namespaces ("slots"): each with a veth into the bridge, an address and a default route.
// Preparing one takes a few `ip` runs (about 8 ms, in a helper shell, off the event loop), so a few spare slots are
// kept ready and a dead sandbox's slot is reused.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ResourceExhaustedError } from '../errors/hearth-error.js';
import type { Logger } from '../core/logger.js';
import { HostShell } from './host-shell.js';
import { slotAddress, slotIndexOfNamespace, slotNamespace, slotVeth, type NetworkLayout } from './network-layout.js';

const NETNS_DIR = '/run/netns';

export interface NetnsSlot {
  index: number;
  /** Bind mount of the namespace, for setns(2) or an OCI runtime's namespace path. */
  netnsPath: string;
  address: string;
}

export class NetnsSlots {
  private readonly free: NetnsSlot[] = [];
  private readonly allocated = new Set<number>();
  private refilling: Promise<void> | undefined;
  private closed = false;
  private readonly shell = new HostShell();

  constructor(
    private readonly layout: NetworkLayout,
    private readonly spareTarget: number,
    private readonly log: Logger,
  ) {}

  slot(index: number): NetnsSlot {
    return { index, netnsPath: path.join(NETNS_DIR, slotNamespace(this.layout, index)), address: slotAddress(this.layout, index) };
  }

  /** Takes stock of namespaces left by an earlier run: those in use stay allocated, the rest become spares. */
  async recover(inUse: ReadonlySet<number>): Promise<void> {
    for (const name of await fs.readdir(NETNS_DIR).catch(() => [] as string[])) {
      const index = slotIndexOfNamespace(this.layout, name);
      if (index === undefined || index < 1 || index > this.layout.capacity) continue;
      this.allocated.add(index);
      if (!inUse.has(index)) this.free.push(this.slot(index));
    }
    for (const index of inUse) this.allocated.add(index);
    this.refill();
  }

  async claim(): Promise<NetnsSlot> {
    const spare = this.free.pop();
    this.refill();
    if (spare) return spare;
    return this.prepare(this.nextIndex());
  }

  /** Gives back the slot of a sandbox whose processes are all gone; nothing of it is left to clean inside. */
  release(slot: NetnsSlot): void {
    if (this.closed) {
      void this.remove(slot.index);
      return;
    }
    if (this.free.length < this.spareTarget * 4) this.free.push(slot);
    else void this.remove(slot.index);
  }

  private nextIndex(): number {
    for (let index = 1; index <= this.layout.capacity; index++) {
      if (!this.allocated.has(index)) {
        this.allocated.add(index);
        return index;
      }
    }
    throw new ResourceExhaustedError(`all ${this.layout.capacity} sandbox addresses of ${this.layout.subnet.text} are in use: use a larger --sandbox-subnet`);
  }

  private refill(): void {
    if (this.refilling || this.closed || this.free.length >= this.spareTarget) return;
    this.refilling = (async () => {
      while (!this.closed && this.free.length < this.spareTarget) this.free.push(await this.prepare(this.nextIndex()));
    })()
      .catch((error: unknown) => this.log.warn(`preparing spare sandbox networks failed: ${(error as Error).message}`))
      .finally(() => {
        this.refilling = undefined;
      });
  }

  private async prepare(index: number): Promise<NetnsSlot> {
    const slot = this.slot(index);
    const name = slotNamespace(this.layout, index);
    const veth = slotVeth(this.layout, index);
    try {
      // names and addresses come from the layout (validated letters, digits and dotted numbers), never from requests
      await this.shell.run(
        [
          `ip netns delete ${name} 2>/dev/null; ip netns add ${name}`,
          `ip link add ${veth} type veth peer name eth0 netns ${name}`,
          `ip link set ${veth} master ${this.layout.bridge} up`,
          `ip link set dev ${veth} type bridge_slave isolated on`,
          `ip -netns ${name} addr add ${slot.address}/${this.layout.subnet.prefixLength} dev eth0`,
          `ip -netns ${name} link set lo up`,
          `ip -netns ${name} link set eth0 up`,
          `ip -netns ${name} route add default via ${this.layout.gateway}`,
        ].join(' &&\n'),
      );
      return slot;
    } catch (error) {
      await this.remove(index);
      throw error;
    }
  }

  private async remove(index: number): Promise<void> {
    await this.shell.run(`ip netns delete ${slotNamespace(this.layout, index)}`).catch(() => undefined);
    this.allocated.delete(index);
  }

  /** Deletes every namespace of this bridge (the veths go with them); used when the whole network is torn down, after every sandbox is gone. */
  async removeSpares(): Promise<void> {
    this.closed = true;
    await this.refilling;
    const spares = this.free.splice(0);
    await Promise.all(spares.map((slot) => this.remove(slot.index)));
    // and any namespace of this bridge still left (one being prepared for a start that lost the race with shutdown)
    for (const name of await fs.readdir(NETNS_DIR).catch(() => [] as string[])) {
      const index = slotIndexOfNamespace(this.layout, name);
      if (index !== undefined) await this.remove(index);
    }
    this.shell.close();
  }

  async stop(): Promise<void> {
    this.closed = true;
    await this.refilling;
    this.shell.close();
  }
}
