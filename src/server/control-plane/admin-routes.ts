// Operator API: pools, live statistics (latency percentiles, memory density) and Prometheus metrics.
import type { SandboxService } from '../../core/sandbox-service.js';
import { pssKiB, rssKiB } from '../../core/memory-accounting.js';
import { LATENCY_BUCKETS_SECONDS, type LatencyHistogram } from '../../core/metrics.js';
import { InvalidArgumentError } from '../../errors/hearth-error.js';
import type { ServerConfig } from '../../config/server-config.js';
import { readJson, sendJson } from '../http-io.js';
import type { Router } from '../router.js';
import { asObject } from './request-parsing.js';
import { renderMetrics } from './metrics-text.js';

function latencySummary(histogram: LatencyHistogram): Record<string, number | undefined> {
  return {
    count: histogram.count,
    p50Ms: histogram.percentileMs(50),
    p95Ms: histogram.percentileMs(95),
    p99Ms: histogram.percentileMs(99),
  };
}

export function registerAdminRoutes(router: Router, sandboxes: SandboxService, config: ServerConfig): void {
  router.add('GET', '/admin/pools', async ({ response }) => {
    sendJson(response, 200, sandboxes.poolStats());
  });

  router.add('PUT', '/admin/pools/:templateID', async ({ request, response, params }) => {
    const body = asObject(await readJson(request, config.maxJsonBodyBytes), 'request body');
    const target = body['target'];
    if (typeof target !== 'number') throw new InvalidArgumentError('target must be a number');
    await sandboxes.setPoolTarget(params['templateID'] ?? '', target);
    sendJson(response, 200, sandboxes.poolStats().find((pool) => pool.templateId === params['templateID']) ?? {});
  });

  router.add('GET', '/admin/sandboxes', async ({ response }) => {
    const rows = await Promise.all(
      sandboxes.liveSandboxes().map(async (live) => ({
        sandboxId: live.record.id,
        templateId: live.record.templateId,
        startedAt: new Date(live.record.startedAtMs).toISOString(),
        endAt: new Date(live.record.endAtMs).toISOString(),
        cpuCount: live.record.cpuCount,
        memoryMiB: live.record.memoryMiB,
        pidsLimit: live.record.pidsLimit,
        diskMiB: live.record.diskMiB,
        metadata: live.record.metadata,
        usage: (await sandboxes.usage(live)) ?? null,
      })),
    );
    sendJson(response, 200, rows);
  });

  router.add('GET', '/admin/stats', async ({ response }) => {
    const { metrics } = sandboxes;
    sendJson(response, 200, {
      serverPid: process.pid,
      serverRssKiB: await rssKiB(process.pid),
      liveSandboxes: sandboxes.liveCount,
      creates: metrics.creates,
      createFailures: metrics.createFailures,
      createLatency: { pool_hit: latencySummary(metrics.createLatency.pool_hit), cold: latencySummary(metrics.createLatency.cold) },
      histogram: {
        boundsMs: LATENCY_BUCKETS_SECONDS.map((bound) => bound * 1000),
        cumulativeCounts: { pool_hit: metrics.createLatency.pool_hit.counts, cold: metrics.createLatency.cold.counts },
        totals: { pool_hit: metrics.createLatency.pool_hit.count, cold: metrics.createLatency.cold.count },
      },
      pools: sandboxes.poolStats(),
    });
  });

  router.add('GET', '/admin/density', async ({ response }) => {
    const rows = await Promise.all(
      sandboxes.liveSandboxes().map(async (live) => {
        const pids = await sandboxes.sandboxPids(live);
        const usage = await sandboxes.usage(live);
        return { sandboxId: live.record.id, processes: pids.length, pssKiB: await pssKiB(pids), cgroupMemoryKiB: Math.round((usage?.memoryBytes ?? 0) / 1024) };
      }),
    );
    sendJson(response, 200, { serverPid: process.pid, serverRssKiB: await rssKiB(process.pid), serverPssKiB: await pssKiB([process.pid]), sandboxes: rows });
  });

  router.add('GET', '/metrics', async ({ response }) => {
    const text = renderMetrics(sandboxes);
    response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4', 'content-length': String(Buffer.byteLength(text)) });
    response.end(text);
  });
}
