// Hearth's promised numbers, in one place; `hearth bench` reports how far each measurement is from its target.
import type { BenchResult } from './bench-result.js';

export interface Target {
  id: string;
  description: string;
  /** The measured value, or undefined when the scenario did not run. */
  measure(result: BenchResult): number | undefined;
  unit: 'ms' | 'MiB' | 'creates/s';
  limit: number;
  /** `max`: the measurement must stay at or below the limit; `min`: at or above. */
  kind: 'max' | 'min';
}

export const TARGETS: readonly Target[] = [
  { id: 'pool-hit-p50', description: 'pool hit, create→first output via the SDK, p50', measure: (r) => r.createPoolHit?.p50Ms, unit: 'ms', limit: 10, kind: 'max' },
  { id: 'pool-hit-p99', description: 'pool hit, create→first output via the SDK, p99', measure: (r) => r.createPoolHit?.p99Ms, unit: 'ms', limit: 30, kind: 'max' },
  { id: 'cold-p50', description: 'cold start (namespaces), create→first output, p50', measure: (r) => r.createCold?.p50Ms, unit: 'ms', limit: 25, kind: 'max' },
  { id: 'gvisor-resume-p50', description: 'gVisor resume of a paused 256 MiB sandbox, connect→first output, p50', measure: (r) => r.gvisorResume?.p50Ms, unit: 'ms', limit: 300, kind: 'max' },
  { id: 'gvisor-pool-hit-p50', description: 'gVisor pool hit, create→first output via the SDK, p50', measure: (r) => r.gvisorPoolHit?.p50Ms, unit: 'ms', limit: 10, kind: 'max' },
  { id: 'microvm-restore-p50', description: 'microVM restore, create→first output via the SDK, p50', measure: (r) => r.microvm?.restore.p50Ms, unit: 'ms', limit: 50, kind: 'max' },
  { id: 'microvm-pool-hit-p50', description: 'microVM pool hit, create→first output via the SDK, p50', measure: (r) => r.microvm?.poolHit.p50Ms, unit: 'ms', limit: 10, kind: 'max' },
  { id: 'microvm-idle-pss', description: 'idle restored microVM guest memory (PSS, mean)', measure: (r) => (r.microvm ? r.microvm.density.meanPssKiB / 1024 : undefined), unit: 'MiB', limit: 40, kind: 'max' },
  { id: 'exec-p50', description: 'exec round trip on a warm sandbox, p50', measure: (r) => r.execRoundTrip?.p50Ms, unit: 'ms', limit: 3, kind: 'max' },
  { id: 'sustained-throughput', description: 'sustained creates with refill (best ramp step with p99 ≤ 100 ms)', measure: (r) => sustainedThroughput(r), unit: 'creates/s', limit: 100, kind: 'min' },
  { id: 'idle-pss', description: 'idle sandbox memory (PSS, mean)', measure: (r) => (r.density ? r.density.meanPssKiB / 1024 : undefined), unit: 'MiB', limit: 10, kind: 'max' },
];

function sustainedThroughput(result: BenchResult): number | undefined {
  if (!result.ramp) return undefined;
  const eligible = result.ramp.steps.filter((step) => step.latency.p99Ms <= 100);
  if (eligible.length === 0) return 0;
  return Math.max(...eligible.map((step) => step.createsPerSecond));
}

export interface TargetVerdict {
  id: string;
  description: string;
  unit: string;
  limit: number;
  kind: 'max' | 'min';
  measured: number | undefined;
  met: boolean | undefined;
  /** How far a missed target is off, as a factor (measured / limit for max targets). */
  offBy: number | undefined;
}

export function judge(result: BenchResult): TargetVerdict[] {
  return TARGETS.map((target) => {
    const measured = target.measure(result);
    if (measured === undefined || Number.isNaN(measured)) {
      return { id: target.id, description: target.description, unit: target.unit, limit: target.limit, kind: target.kind, measured: undefined, met: undefined, offBy: undefined };
    }
    const met = target.kind === 'max' ? measured <= target.limit : measured >= target.limit;
    const offBy = met ? undefined : target.kind === 'max' ? measured / target.limit : target.limit / Math.max(measured, 1e-9);
    return { id: target.id, description: target.description, unit: target.unit, limit: target.limit, kind: target.kind, measured, met, offBy };
  });
}
