// Density: start N idle sandboxes and read each one's PSS (supervisor plus everything it runs) and the server's RSS.
import { Sandbox } from 'e2b';
import { apiRequest } from '../cli/api-client.js';
import { sdkOptions, type BenchContext } from './bench-context.js';
import type { DensityResult } from './bench-result.js';
import { percentile } from './latency-stats.js';

interface DensityReport {
  serverRssKiB: number;
  sandboxes: Array<{ sandboxId: string; processes: number; pssKiB: number; cgroupMemoryKiB: number }>;
}

export async function measureDensity(context: BenchContext, count: number): Promise<DensityResult> {
  const before = await apiRequest<DensityReport>(context.client, 'GET', '/admin/density');
  const sandboxes: Sandbox[] = [];
  try {
    for (let index = 0; index < count; index += 1) {
      sandboxes.push(await Sandbox.create(context.templateId, { ...sdkOptions(context), timeoutMs: 600_000 }));
      context.progress('density: idle sandboxes', index + 1, count);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    const report = await apiRequest<DensityReport>(context.client, 'GET', '/admin/density');
    const ours = new Set(sandboxes.map((sandbox) => sandbox.sandboxId));
    const rows = report.sandboxes.filter((row) => ours.has(row.sandboxId));
    const pss = rows.map((row) => row.pssKiB).sort((a, b) => a - b);
    const cgroupMemory = rows.map((row) => row.cgroupMemoryKiB);
    return {
      sandboxes: pss.length,
      meanPssKiB: pss.reduce((sum, value) => sum + value, 0) / Math.max(pss.length, 1),
      p50PssKiB: percentile(pss, 50),
      maxPssKiB: pss[pss.length - 1] ?? 0,
      meanCgroupMemoryKiB: cgroupMemory.reduce((sum, value) => sum + value, 0) / Math.max(cgroupMemory.length, 1),
      serverRssKiB: report.serverRssKiB,
      serverRssBeforeKiB: before.serverRssKiB,
    };
  } finally {
    await Promise.allSettled(sandboxes.map((sandbox) => sandbox.kill()));
  }
}
