// The shape of one `hearth bench` run, as written to JSON.
import type { LatencySummary } from './latency-stats.js';
import type { MachineInfo } from './machine-info.js';

export interface RampStep {
  concurrency: number;
  creates: number;
  createsPerSecond: number;
  latency: LatencySummary;
}

export interface DensityResult {
  sandboxes: number;
  meanPssKiB: number;
  p50PssKiB: number;
  maxPssKiB: number;
  /** What the sandbox's memory cgroup is charged (page cache and kernel memory included), for comparison with PSS. */
  meanCgroupMemoryKiB: number;
  serverRssKiB: number;
  serverRssBeforeKiB: number;
}

export interface FloorResult {
  name: string;
  command: string;
  latency: LatencySummary | undefined;
  /** Why the floor was not measured (tool not installed, refused to run). */
  skipped: string | undefined;
}

export interface BenchResult {
  version: 1;
  startedAt: string;
  durationMs: number;
  server: string;
  machine: MachineInfo;
  settings: { runs: number; warmup: number; rampLevels: number[]; densitySandboxes: number; quick: boolean };
  createPoolHit: LatencySummary | undefined;
  createCold: LatencySummary | undefined;
  execRoundTrip: LatencySummary | undefined;
  ramp: { steps: RampStep[]; stoppedAt: string } | undefined;
  density: DensityResult | undefined;
  /** create→first output of a template whose sandboxes run on gVisor; gvisorSkipped says why they were not measured. */
  gvisorPoolHit?: LatencySummary | undefined;
  gvisorCold?: LatencySummary | undefined;
  /** `commands.run('true')` in a running gVisor sandbox: the part of a pool hit that is one process start inside gVisor. */
  gvisorExecRoundTrip?: LatencySummary | undefined;
  gvisorSkipped?: string | undefined;
  /** Resume of a paused 256 MiB gVisor sandbox, connect→first output. */
  gvisorResume?: LatencySummary | undefined;
  /** The same resume with nothing filled: runsc's fixed cost of create + restore without the pages. */
  gvisorResumeIdle?: LatencySummary | undefined;
  gvisorResumeSkipped?: string | undefined;
  /** create→ready of an initialising template restored from its memory snapshot, and of the same template started cold. */
  snapshotTemplate?: { restored: LatencySummary; cold: LatencySummary } | undefined;
  snapshotTemplateSkipped?: string | undefined;
  /** microVM create→first output: pool hit, restore from the template snapshot, boot; idle restored guests' PSS; accelerator. */
  microvm?: {
    poolHit: LatencySummary;
    restore: LatencySummary;
    /** commands.run('true') in a running guest: what every command costs on this accelerator, first output included. */
    execRoundTrip: LatencySummary;
    boot: LatencySummary | undefined;
    bootSkipped: string | undefined;
    density: DensityResult;
    accelerator: string;
  } | undefined;
  microvmSkipped?: string | undefined;
  floors: FloorResult[];
  /** Hearth's p50 divided by each floor's p50, for pool hit and cold start. */
  ratios: Array<{ floor: string; poolHitToFloor: number | undefined; coldToFloor: number | undefined }>;
  samples: Record<string, number[]>;
}
