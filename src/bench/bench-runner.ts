// Runs the bench scenarios in order against a live server and assembles one BenchResult.
import { writeFileSync } from 'node:fs';
import type { ApiClientOptions } from '../cli/api-client.js';
import { poolStats, setPoolTarget, type BenchContext } from './bench-context.js';
import type { BenchResult } from './bench-result.js';
import { measureColdStarts, measureExecRoundTrip, measurePoolHits } from './create-scenarios.js';
import { measureDensity } from './density-scenario.js';
import { measureFloors } from './floor-scenarios.js';
import { measureGvisor } from './gvisor-scenarios.js';
import { measureResume, measureSnapshotTemplate } from './snapshot-scenarios.js';
import { measureMicrovm } from './microvm-scenarios.js';
import { summarize } from './latency-stats.js';
import { machineInfo } from './machine-info.js';
import { runRamp } from './ramp-scenario.js';

export type ScenarioName = 'pool' | 'cold' | 'exec' | 'ramp' | 'density' | 'gvisor' | 'resume' | 'snapshot' | 'microvm' | 'floors';
export const ALL_SCENARIOS: readonly ScenarioName[] = ['pool', 'cold', 'exec', 'ramp', 'density', 'gvisor', 'resume', 'snapshot', 'microvm', 'floors'];

export interface BenchOptions {
  client: ApiClientOptions;
  templateId: string;
  /** A template labelled hearth.backend=gvisor, for the gVisor scenarios. */
  gvisorTemplateId: string;
  /** An initialising template labelled hearth.snapshot=true, and the same without the label, for the snapshot scenario. */
  snapshotTemplateId: string;
  snapshotColdTemplateId: string;
  /** Templates labelled hearth.backend=microvm (and, for boots, hearth.microvm.snapshot=off). */
  microvmTemplateId: string;
  microvmBootTemplateId: string;
  runs: number;
  warmup: number;
  rampLevels: number[];
  rampCreatesPerLevel: number;
  rampPoolTarget: number;
  densitySandboxes: number;
  scenarios: readonly ScenarioName[];
  dropCaches: boolean;
  quick: boolean;
  progress: (label: string, done: number, total: number) => void;
}

export async function runBench(options: BenchOptions): Promise<BenchResult> {
  const startedAt = new Date();
  if (options.dropCaches) writeFileSync('/proc/sys/vm/drop_caches', '3');
  const context: BenchContext = { client: options.client, runs: options.runs, warmup: options.warmup, templateId: options.templateId, progress: options.progress };
  const originalTarget = (await poolStats(context))?.target ?? 0;
  const samples: Record<string, number[]> = {};
  const wants = (name: ScenarioName): boolean => options.scenarios.includes(name);
  const result: BenchResult = {
    version: 1,
    startedAt: startedAt.toISOString(),
    durationMs: 0,
    server: options.client.url,
    machine: machineInfo(options.dropCaches),
    settings: { runs: options.runs, warmup: options.warmup, rampLevels: options.rampLevels, densitySandboxes: options.densitySandboxes, quick: options.quick },
    createPoolHit: undefined,
    createCold: undefined,
    execRoundTrip: undefined,
    ramp: undefined,
    density: undefined,
    gvisorPoolHit: undefined,
    gvisorCold: undefined,
    gvisorSkipped: undefined,
    floors: [],
    ratios: [],
    samples,
  };
  try {
    if (wants('pool')) {
      samples['createPoolHit'] = await measurePoolHits(context, originalTarget);
      result.createPoolHit = summarize(samples['createPoolHit']);
    }
    if (wants('cold')) {
      samples['createCold'] = await measureColdStarts(context);
      result.createCold = summarize(samples['createCold']);
    }
    await setPoolTarget(context, originalTarget);
    if (wants('exec')) {
      samples['execRoundTrip'] = await measureExecRoundTrip(context);
      result.execRoundTrip = summarize(samples['execRoundTrip']);
    }
    if (wants('ramp')) {
      await setPoolTarget(context, Math.max(originalTarget, options.rampPoolTarget));
      result.ramp = await runRamp(context, options.rampLevels, options.rampCreatesPerLevel);
      await setPoolTarget(context, originalTarget);
    }
    if (wants('density')) result.density = await measureDensity(context, options.densitySandboxes);
    if (wants('gvisor')) {
      const gvisor = await measureGvisor(context, options.gvisorTemplateId);
      if (typeof gvisor === 'string') result.gvisorSkipped = gvisor;
      else {
        samples['gvisorPoolHit'] = gvisor.poolHit;
        samples['gvisorCold'] = gvisor.cold;
        samples['gvisorExecRoundTrip'] = gvisor.execRoundTrip;
        result.gvisorPoolHit = summarize(gvisor.poolHit);
        result.gvisorCold = summarize(gvisor.cold);
        result.gvisorExecRoundTrip = summarize(gvisor.execRoundTrip);
      }
    }
    // memory snapshots: a pause/resume cycle and a create each take seconds, so these run fewer times
    const snapshotRuns = Math.max(3, Math.min(options.runs, 20));
    if (wants('resume')) {
      const resume = await measureResume(context, options.gvisorTemplateId, snapshotRuns, true);
      if (typeof resume === 'string') result.gvisorResumeSkipped = resume;
      else {
        samples['gvisorResume'] = resume;
        result.gvisorResume = summarize(resume);
        const idle = await measureResume(context, options.gvisorTemplateId, snapshotRuns, false);
        if (typeof idle !== 'string') {
          samples['gvisorResumeIdle'] = idle;
          result.gvisorResumeIdle = summarize(idle);
        }
      }
    }
    if (wants('snapshot')) {
      const snapshot = await measureSnapshotTemplate(context, options.snapshotTemplateId, options.snapshotColdTemplateId, Math.max(3, Math.min(options.runs, 10)));
      if (typeof snapshot === 'string') result.snapshotTemplateSkipped = snapshot;
      else {
        samples['snapshotTemplateRestored'] = snapshot.restored;
        samples['snapshotTemplateCold'] = snapshot.cold;
        result.snapshotTemplate = { restored: summarize(snapshot.restored), cold: summarize(snapshot.cold) };
      }
    }
    if (wants('microvm')) {
      const microvm = await measureMicrovm(context, options.microvmTemplateId, options.microvmBootTemplateId, Math.min(options.densitySandboxes, 10));
      if (typeof microvm === 'string') result.microvmSkipped = microvm;
      else {
        samples['microvmPoolHit'] = microvm.poolHit;
        samples['microvmRestore'] = microvm.restore;
        samples['microvmExec'] = microvm.execRoundTrip;
        if (typeof microvm.boot !== 'string') samples['microvmBoot'] = microvm.boot;
        result.microvm = {
          poolHit: summarize(microvm.poolHit),
          restore: summarize(microvm.restore),
          execRoundTrip: summarize(microvm.execRoundTrip),
          boot: typeof microvm.boot === 'string' ? undefined : summarize(microvm.boot),
          bootSkipped: typeof microvm.boot === 'string' ? microvm.boot : undefined,
          density: microvm.density,
          accelerator: microvm.accelerator,
        };
      }
    }
    if (wants('floors')) {
      result.floors = await measureFloors(context, options.runs);
      result.ratios = result.floors
        .filter((floor) => floor.latency)
        .map((floor) => ({
          floor: floor.name,
          poolHitToFloor: result.createPoolHit && floor.latency ? result.createPoolHit.p50Ms / floor.latency.p50Ms : undefined,
          coldToFloor: result.createCold && floor.latency ? result.createCold.p50Ms / floor.latency.p50Ms : undefined,
        }));
    }
  } finally {
    await setPoolTarget(context, originalTarget).catch(() => undefined);
  }
  result.durationMs = Date.now() - startedAt.getTime();
  return result;
}
