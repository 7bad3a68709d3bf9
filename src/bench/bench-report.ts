// The bench's human-readable report: machine, scenario table, ramp, density, floors and target verdicts.
import { formatTable } from '../cli/format-table.js';
import type { BenchResult } from './bench-result.js';
import { judge } from './bench-targets.js';
import type { LatencySummary } from './latency-stats.js';

const ms = (value: number | undefined): string => (value === undefined || Number.isNaN(value) ? '-' : value.toFixed(2));

function latencyRow(name: string, summary: LatencySummary | undefined): string[] {
  if (!summary) return [name, '-', '-', '-', '-', '-', 'not run'];
  return [name, String(summary.runs), ms(summary.p50Ms), ms(summary.p95Ms), ms(summary.p99Ms), ms(summary.maxMs), ''];
}

export function formatReport(result: BenchResult): string {
  const { machine } = result;
  const out: string[] = [];
  out.push(`hearth bench against ${result.server} at ${result.startedAt} (${(result.durationMs / 1000).toFixed(1)} s)`);
  out.push(`machine: ${machine.cores} cores (${machine.cpuModel}), kernel ${machine.kernel}, ${machine.memoryGiB} GiB, node ${machine.node}`);
  out.push(`page cache: ${machine.pageCacheState}, ${machine.pageCachedMiB} MiB cached; runs per scenario: ${result.settings.runs} after ${result.settings.warmup} warm-up${result.settings.quick ? ' (quick mode)' : ''}`);
  out.push('');
  const rows = [
    latencyRow('create→first output, pool hit', result.createPoolHit),
    latencyRow('create→first output, cold', result.createCold),
    latencyRow('exec round trip (warm sandbox)', result.execRoundTrip),
    ...(result.gvisorSkipped ? [['gVisor create→first output', '-', '-', '-', '-', '-', result.gvisorSkipped]] : []),
    ...(result.gvisorPoolHit ? [latencyRow('gVisor create→first output, pool hit', result.gvisorPoolHit)] : []),
    ...(result.gvisorCold ? [latencyRow('gVisor create→first output, cold', result.gvisorCold)] : []),
    ...(result.gvisorExecRoundTrip ? [latencyRow('gVisor exec round trip (warm sandbox)', result.gvisorExecRoundTrip)] : []),
    ...(result.gvisorResume ? [latencyRow('gVisor resume of a paused 256 MiB sandbox (200 MiB in use)', result.gvisorResume)] : []),
    ...(result.gvisorResumeIdle ? [latencyRow('gVisor resume of an idle paused 256 MiB sandbox', result.gvisorResumeIdle)] : []),
    ...(result.gvisorResumeSkipped ? [['gVisor resume', '-', '-', '-', '-', '-', result.gvisorResumeSkipped]] : []),
    ...(result.snapshotTemplate ? [latencyRow('snapshot-started template, create→ready', result.snapshotTemplate.restored), latencyRow('same template cold, create→ready', result.snapshotTemplate.cold)] : []),
    ...(result.snapshotTemplateSkipped ? [['snapshot-started template', '-', '-', '-', '-', '-', result.snapshotTemplateSkipped]] : []),
    ...(result.microvmSkipped ? [['microVM create→first output', '-', '-', '-', '-', '-', result.microvmSkipped]] : []),
    ...(result.microvm ? [latencyRow('microVM create→first output, pool hit', result.microvm.poolHit), latencyRow('microVM create→first output, restore', result.microvm.restore), latencyRow('microVM exec round trip (a running guest)', result.microvm.execRoundTrip)] : []),
    ...(result.microvm ? [result.microvm.boot ? latencyRow('microVM create→first output, boot', result.microvm.boot) : ['microVM create→first output, boot', '-', '-', '-', '-', '-', result.microvm.bootSkipped ?? '']] : []),
    ...result.floors.map((floor) => (floor.latency ? latencyRow(`floor: ${floor.command}`, floor.latency) : [`floor: ${floor.name}`, '-', '-', '-', '-', '-', floor.skipped ?? ''])),
  ];
  out.push(formatTable(['scenario (ms)', 'runs', 'p50', 'p95', 'p99', 'max', 'note'], rows));
  for (const ratio of result.ratios) {
    out.push(`vs ${ratio.floor}: pool hit ${ratio.poolHitToFloor?.toFixed(2) ?? '-'}×, cold ${ratio.coldToFloor?.toFixed(2) ?? '-'}× the floor's p50`);
  }
  if (result.ramp) {
    out.push('');
    out.push(formatTable(
      ['concurrency', 'creates', 'creates/s', 'p50 ms', 'p99 ms'],
      result.ramp.steps.map((step) => [String(step.concurrency), String(step.creates), step.createsPerSecond.toFixed(1), ms(step.latency.p50Ms), ms(step.latency.p99Ms)]),
    ));
    out.push(`ramp: ${result.ramp.stoppedAt}`);
  }
  if (result.microvm) {
    const d = result.microvm.density;
    out.push(`microVM: accelerator ${result.microvm.accelerator}; ${d.sandboxes} idle restored guests, PSS per guest mean ${(d.meanPssKiB / 1024).toFixed(2)} MiB, p50 ${(d.p50PssKiB / 1024).toFixed(2)} MiB, max ${(d.maxPssKiB / 1024).toFixed(2)} MiB (cgroup charge mean ${(d.meanCgroupMemoryKiB / 1024).toFixed(2)} MiB)`);
  }
  if (result.density) {
    const d = result.density;
    out.push('');
    out.push(`density: ${d.sandboxes} idle sandboxes, PSS per sandbox mean ${(d.meanPssKiB / 1024).toFixed(2)} MiB, p50 ${(d.p50PssKiB / 1024).toFixed(2)} MiB, max ${(d.maxPssKiB / 1024).toFixed(2)} MiB (memory cgroup charge, page cache and kernel memory included: mean ${(d.meanCgroupMemoryKiB / 1024).toFixed(2)} MiB); server RSS ${(d.serverRssBeforeKiB / 1024).toFixed(0)} → ${(d.serverRssKiB / 1024).toFixed(0)} MiB`);
  }
  out.push('');
  out.push(formatTable(
    ['target', 'limit', 'measured', 'verdict'],
    judge(result).map((verdict) => [
      verdict.description,
      `${verdict.kind === 'max' ? '≤' : '≥'} ${verdict.limit} ${verdict.unit}`,
      verdict.measured === undefined ? '-' : `${verdict.measured.toFixed(2)} ${verdict.unit}`,
      verdict.met === undefined ? 'not measured' : verdict.met ? 'met' : `missed (${verdict.offBy?.toFixed(2)}× off)`,
    ]),
  ));
  return out.join('\n');
}
