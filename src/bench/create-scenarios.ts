// create→first output through the real e2b SDK: Sandbox.create() then commands.run('true'), for pool hits and cold starts.
import { Sandbox } from 'e2b';
import { elapsedMs, sdkOptions, setPoolTarget, waitForPool, type BenchContext } from './bench-context.js';

async function createAndRun(context: BenchContext): Promise<{ latencyMs: number; sandbox: Sandbox }> {
  const started = process.hrtime.bigint();
  const sandbox = await Sandbox.create(context.templateId, sdkOptions(context));
  await sandbox.commands.run('true');
  return { latencyMs: elapsedMs(started), sandbox };
}

/** Runs warm-up plus timed create→first-output cycles, each followed by an untimed kill. */
async function measureCreates(context: BenchContext, label: string, beforeEach: () => Promise<void>): Promise<number[]> {
  const samples: number[] = [];
  const total = context.warmup + context.runs;
  for (let index = 0; index < total; index += 1) {
    await beforeEach();
    const { latencyMs, sandbox } = await createAndRun(context);
    await sandbox.kill();
    if (index >= context.warmup) samples.push(latencyMs);
    context.progress(label, index + 1, total);
  }
  return samples;
}

/** Every timed run starts with a ready sandbox in the pool, so each one is a pool hit. */
export async function measurePoolHits(context: BenchContext, previousTarget: number): Promise<number[]> {
  await setPoolTarget(context, Math.max(previousTarget, 4));
  return measureCreates(context, 'create→first output (pool hit)', () => waitForPool(context, 1));
}

/** The pool is emptied (target 0) so every create starts a sandbox from scratch. */
export async function measureColdStarts(context: BenchContext): Promise<number[]> {
  await setPoolTarget(context, 0);
  return measureCreates(context, 'create→first output (cold)', async () => undefined);
}

export async function measureExecRoundTrip(context: BenchContext): Promise<number[]> {
  const sandbox = await Sandbox.create(context.templateId, sdkOptions(context));
  const samples: number[] = [];
  const total = context.warmup + context.runs;
  try {
    for (let index = 0; index < total; index += 1) {
      const started = process.hrtime.bigint();
      await sandbox.commands.run('true');
      if (index >= context.warmup) samples.push(elapsedMs(started));
      context.progress('exec round trip', index + 1, total);
    }
  } finally {
    await sandbox.kill();
  }
  return samples;
}
