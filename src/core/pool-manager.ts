// Per-template warm pools: started, frozen sandboxes claimed atomically by create and refilled in the background.
import { toHearthError } from '../errors/hearth-error.js';
import type { Logger } from './logger.js';
import type { LiveSandbox } from './sandbox-service.js';

export interface PoolStats {
  templateId: string;
  target: number;
  ready: number;
  starting: number;
  claims: number;
  misses: number;
}

interface Pool {
  target: number;
  ready: LiveSandbox[];
  starting: number;
  claims: number;
  misses: number;
}

export interface PoolHooks {
  /** Starts a sandbox of the template, frozen, recorded as `pooled`. */
  startPooled(templateId: string): Promise<LiveSandbox>;
  /** Kills a pooled sandbox that is no longer wanted. */
  discard(live: LiveSandbox, reason: string): Promise<void>;
}

const FAILURE_BACKOFF_MS = 2000;

export class PoolManager {
  private readonly pools = new Map<string, Pool>();
  private pumping = false;
  private currentPump: Promise<void> = Promise.resolve();
  private readonly discarding = new Set<Promise<void>>();
  private stopped = false;
  private backoffUntilMs = 0;

  constructor(
    private readonly hooks: PoolHooks,
    private readonly log: Logger,
    private readonly refillConcurrency = 1,
  ) {}

  private pool(templateId: string): Pool {
    let pool = this.pools.get(templateId);
    if (!pool) {
      pool = { target: 0, ready: [], starting: 0, claims: 0, misses: 0 };
      this.pools.set(templateId, pool);
    }
    return pool;
  }

  /** Sets how many sandboxes of a template wait ready; surplus ones are killed, missing ones started. */
  setTarget(templateId: string, target: number): void {
    const pool = this.pool(templateId);
    pool.target = target;
    const surplus = pool.ready.splice(target);
    for (const live of surplus) this.discard(live, 'pool shrunk');
    this.schedule();
  }

  /** Takes a ready sandbox, or undefined on a miss (the caller starts one cold). Synchronous, so two claims never get the same one. */
  claim(templateId: string): LiveSandbox | undefined {
    const pool = this.pools.get(templateId);
    const live = pool?.ready.shift();
    if (pool) {
      if (live) pool.claims += 1;
      else pool.misses += 1;
      this.schedule();
    }
    return live;
  }

  /** Puts a sandbox found alive after a restart back into its pool. */
  adopt(templateId: string, live: LiveSandbox): void {
    this.pool(templateId).ready.push(live);
    this.watchForLoss(templateId, live);
  }

  allIds(): string[] {
    return this.allLive().map((live) => live.record.id);
  }

  allLive(): LiveSandbox[] {
    return [...this.pools.values()].flatMap((pool) => pool.ready);
  }

  /** All pooled sandboxes, for shutdown and kill-all. */
  takeAll(): LiveSandbox[] {
    const all: LiveSandbox[] = [];
    for (const pool of this.pools.values()) all.push(...pool.ready.splice(0));
    return all;
  }

  stats(): PoolStats[] {
    return [...this.pools.entries()].map(([templateId, pool]) => ({
      templateId,
      target: pool.target,
      ready: pool.ready.length,
      starting: pool.starting,
      claims: pool.claims,
      misses: pool.misses,
    }));
  }

  /** Stops refilling and waits for in-flight starts and discards, so nothing is leaked on shutdown. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.currentPump;
    await Promise.allSettled([...this.discarding]);
  }

  /** Kills a pooled sandbox in the background, remembering the work so stop() can wait for it. */
  private discard(live: LiveSandbox, reason: string): void {
    const done = this.hooks
      .discard(live, reason)
      .catch((error: unknown) => this.log.warn(`pool: discarding ${live.record.id} failed: ${toHearthError(error).message}`))
      .finally(() => this.discarding.delete(done));
    this.discarding.add(done);
  }

  private watchForLoss(templateId: string, live: LiveSandbox): void {
    live.client.onClosed(() => {
      const pool = this.pools.get(templateId);
      const index = pool?.ready.indexOf(live) ?? -1;
      if (pool && index >= 0) {
        pool.ready.splice(index, 1);
        this.discard(live, 'pooled sandbox lost its supervisor');
        this.schedule();
      }
    });
  }

  private schedule(): void {
    if (this.pumping || this.stopped) return;
    this.pumping = true;
    this.currentPump = new Promise<void>((resolve) => setImmediate(() => void this.pump().finally(resolve)));
  }

  private nextDeficit(): string | undefined {
    for (const [templateId, pool] of this.pools) {
      if (pool.ready.length + pool.starting < pool.target) return templateId;
    }
    return undefined;
  }

  /** Refills one sandbox at a time (per concurrency slot), yielding between starts so live requests go first. */
  private async pump(): Promise<void> {
    try {
      const workers = Array.from({ length: this.refillConcurrency }, () => this.worker());
      await Promise.all(workers);
    } finally {
      this.pumping = false;
      if (!this.stopped && this.nextDeficit() !== undefined) {
        const delayMs = Math.max(0, this.backoffUntilMs - Date.now());
        setTimeout(() => this.schedule(), delayMs).unref();
      }
    }
  }

  private async worker(): Promise<void> {
    for (;;) {
      if (this.stopped || Date.now() < this.backoffUntilMs) return;
      const templateId = this.nextDeficit();
      if (templateId === undefined) return;
      const pool = this.pool(templateId);
      pool.starting += 1;
      try {
        const live = await this.hooks.startPooled(templateId);
        if (this.stopped || pool.ready.length >= pool.target) {
          this.discard(live, 'pool no longer needs it');
        } else {
          pool.ready.push(live);
          this.watchForLoss(templateId, live);
        }
      } catch (error) {
        this.log.warn(`pool ${templateId}: refill failed: ${toHearthError(error).message}`);
        this.backoffUntilMs = Date.now() + FAILURE_BACKOFF_MS;
      } finally {
        pool.starting -= 1;
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}
