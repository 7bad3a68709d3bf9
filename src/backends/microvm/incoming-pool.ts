// Pre-spawned QEMU processes waiting with `-incoming defer`: the process start, its cgroups, the sandbox disk
// copy and the QMP handshake all happen before a create asks, so a restore only sends `migrate-incoming`.
// One pool per restore key (snapshot plus limits); each take starts one replacement in the background.
import type { QmpClient } from './qmp-client.js';

export interface IncomingGuest {
  /** A directory named for no sandbox yet; renamed to the sandbox's when taken. */
  dir: string;
  /** The cgroup name it runs in; renamed like the directory. */
  cgroupName: string;
  qemuPid: number;
  startTicks: number;
  /** Connected, with migration capabilities set. */
  qmp: QmpClient;
}

export class IncomingPool {
  private readonly ready = new Map<string, IncomingGuest[]>();
  private readonly filling = new Map<string, Promise<void>>();
  private closed = false;

  constructor(
    /** How many waiting processes to keep per key (0: none, every restore spawns its own). */
    private readonly perKey: number,
    private readonly discard: (guest: IncomingGuest) => Promise<void>,
    private readonly log: (message: string) => void,
  ) {}

  /** A waiting process for `key`, spawned now with `make` when none is ready; the pool refills behind it. */
  async take(key: string, make: () => Promise<IncomingGuest>): Promise<{ guest: IncomingGuest; hit: boolean }> {
    const spare = this.ready.get(key)?.shift();
    this.refill(key, make);
    if (spare) return { guest: spare, hit: true };
    return { guest: await make(), hit: false };
  }

  private refill(key: string, make: () => Promise<IncomingGuest>): void {
    if (this.closed || this.perKey <= 0 || this.filling.has(key)) return;
    const filling = (async () => {
      for (;;) {
        const list = this.ready.get(key) ?? [];
        this.ready.set(key, list);
        if (this.closed || list.length >= this.perKey) return;
        const guest = await make();
        if (this.closed) {
          await this.discard(guest);
          return;
        }
        list.push(guest);
      }
    })()
      .catch((error: unknown) => this.log(`microvm: pre-spawning a QEMU for restores failed: ${String(error)}`))
      .finally(() => this.filling.delete(key));
    this.filling.set(key, filling);
  }

  /** How many processes wait, over all keys. */
  get size(): number {
    let total = 0;
    for (const list of this.ready.values()) total += list.length;
    return total;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.filling.values()]);
    const all = [...this.ready.values()].flat();
    this.ready.clear();
    await Promise.allSettled(all.map((guest) => this.discard(guest)));
  }
}
