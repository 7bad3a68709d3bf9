// The Prometheus exposition of Hearth's metrics: creates by path, create latency, pools, live sandboxes.
import type { SandboxService } from '../../core/sandbox-service.js';
import { histogramLines, renderFamily, sampleLine } from '../../core/metrics.js';

export function renderMetrics(sandboxes: SandboxService): string {
  const { metrics } = sandboxes;
  const pools = sandboxes.poolStats();
  return [
    renderFamily('hearth_sandbox_creates_total', 'Sandbox creates by path (pool hit or cold start).', 'counter', [
      sampleLine('hearth_sandbox_creates_total', { path: 'pool_hit' }, metrics.creates.pool_hit),
      sampleLine('hearth_sandbox_creates_total', { path: 'cold' }, metrics.creates.cold),
    ]),
    renderFamily('hearth_sandbox_create_failures_total', 'Sandbox creates that failed.', 'counter', [sampleLine('hearth_sandbox_create_failures_total', {}, metrics.createFailures)]),
    renderFamily('hearth_sandbox_create_duration_seconds', 'Time from create request to a running sandbox.', 'histogram', [
      ...histogramLines('hearth_sandbox_create_duration_seconds', { path: 'pool_hit' }, metrics.createLatency.pool_hit),
      ...histogramLines('hearth_sandbox_create_duration_seconds', { path: 'cold' }, metrics.createLatency.cold),
    ]),
    renderFamily('hearth_pool_target', 'Warm pool target size per template.', 'gauge', pools.map((pool) => sampleLine('hearth_pool_target', { template: pool.templateId }, pool.target))),
    renderFamily('hearth_pool_ready', 'Ready (frozen) sandboxes per template pool.', 'gauge', pools.map((pool) => sampleLine('hearth_pool_ready', { template: pool.templateId }, pool.ready))),
    renderFamily('hearth_pool_claims_total', 'Creates served from a pool.', 'counter', pools.map((pool) => sampleLine('hearth_pool_claims_total', { template: pool.templateId }, pool.claims))),
    renderFamily('hearth_pool_misses_total', 'Creates that found the pool empty and started cold.', 'counter', pools.map((pool) => sampleLine('hearth_pool_misses_total', { template: pool.templateId }, pool.misses))),
    renderFamily('hearth_live_sandboxes', 'Sandboxes running now.', 'gauge', [sampleLine('hearth_live_sandboxes', {}, sandboxes.liveCount)]),
  ].join('');
}
