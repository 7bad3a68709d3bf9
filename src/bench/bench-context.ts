// Shared settings and helpers for bench scenarios: SDK options, admin calls, progress output.
import { apiRequest, type ApiClientOptions } from '../cli/api-client.js';
import type { PoolStats } from '../core/pool-manager.js';

export interface BenchContext {
  client: ApiClientOptions;
  runs: number;
  warmup: number;
  templateId: string;
  progress(label: string, done: number, total: number): void;
}

export function sdkOptions(context: BenchContext): { apiKey: string; apiUrl: string; sandboxUrl: string; requestTimeoutMs: number } {
  return { apiKey: context.client.apiKey, apiUrl: context.client.url, sandboxUrl: context.client.url, requestTimeoutMs: 60_000 };
}

export async function poolStats(context: BenchContext): Promise<PoolStats | undefined> {
  const pools = await apiRequest<PoolStats[]>(context.client, 'GET', '/admin/pools');
  return pools.find((pool) => pool.templateId === context.templateId);
}

export async function setPoolTarget(context: BenchContext, target: number): Promise<void> {
  await apiRequest(context.client, 'PUT', `/admin/pools/${encodeURIComponent(context.templateId)}`, { target });
}

/** Waits (untimed) until the template's pool has at least `ready` sandboxes waiting. */
export async function waitForPool(context: BenchContext, ready: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stats = await poolStats(context);
    if ((stats?.ready ?? 0) >= ready) return;
    if (Date.now() > deadline) throw new Error(`pool ${context.templateId} did not reach ${ready} ready sandboxes within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export function elapsedMs(startNs: bigint): number {
  return Number(process.hrtime.bigint() - startNs) / 1e6;
}
