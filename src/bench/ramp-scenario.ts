// Concurrency ramp: N parallel clients each create→run→kill in a loop; throughput and latency per step,
// stopping at the first step whose p99 is at least double the previous step's.
import { Sandbox } from 'e2b';
import { elapsedMs, sdkOptions, type BenchContext } from './bench-context.js';
import type { RampStep } from './bench-result.js';
import { summarize } from './latency-stats.js';

export async function runRamp(context: BenchContext, levels: readonly number[], createsPerLevel: number): Promise<{ steps: RampStep[]; stoppedAt: string }> {
  const steps: RampStep[] = [];
  for (const concurrency of levels) {
    const samples: number[] = [];
    let remaining = Math.max(createsPerLevel, concurrency);
    const total = remaining;
    const started = process.hrtime.bigint();
    const worker = async (): Promise<void> => {
      while (remaining > 0) {
        remaining -= 1;
        const opStarted = process.hrtime.bigint();
        const sandbox = await Sandbox.create(context.templateId, sdkOptions(context));
        await sandbox.commands.run('true');
        samples.push(elapsedMs(opStarted));
        context.progress(`ramp ×${concurrency}`, samples.length, total);
        await sandbox.kill();
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const seconds = elapsedMs(started) / 1000;
    const step: RampStep = { concurrency, creates: samples.length, createsPerSecond: samples.length / seconds, latency: summarize(samples) };
    steps.push(step);
    const previous = steps[steps.length - 2];
    if (previous && step.latency.p99Ms >= 2 * previous.latency.p99Ms) {
      return { steps, stoppedAt: `p99 doubled at concurrency ${concurrency} (${step.latency.p99Ms.toFixed(1)} ms vs ${previous.latency.p99Ms.toFixed(1)} ms)` };
    }
  }
  return { steps, stoppedAt: 'all levels ran' };
}
